import { reasonTable } from "../../transforms/reasons.js";

/** The README's table of reason codes, rendered from the one table the transforms use. */
export function reasonTableMarkdown(): string {
  const rows = reasonTable.map(({ code, scope, message, fix }) => `| \`${code}\` | ${scope} | ${message} | ${fix} |`);
  return ["| code | where | what it means | what to do |", "|---|---|---|---|", ...rows].join("\n") + "\n";
}
