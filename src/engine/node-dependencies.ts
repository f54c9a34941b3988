import type { MigrationOutcome } from "../../transforms/types.js";
import { declaredDependencies, type DependencyEdits } from "./package-json.js";

/**
 * What the vendored runtime needs from the project's package.json. prom-client always (metrics).
 * openai only when the new path calls it itself (a wrapper's calls become generateResponseAsync):
 * the runtime loads it on first use, so a project that gates its own Anthropic or openai v3 calls
 * needs none. That call uses `responses.create` (openai 4.87 and later) unless the wrapper used
 * chat completions; an older 4.x range is raised within its major version, a 3.x one is reported.
 */
export const OPENAI_WITH_RESPONSES = { major: 4, minor: 87, range: "^4.87.0" } as const;

export interface NodeDependencyPlan {
  edits: DependencyEdits;
  raised?: { from: string; to: string };
  /** Declared openai range too old for the runtime's new path, left for the user. */
  tooOld?: string;
}

export function nodeDependencyPlan(text: string, outcome: MigrationOutcome, ownRanges: Record<string, string>): NodeDependencyPlan {
  // A model process gated inline (`execFileSync("ollama", …)`) goes to the runtime's OpenAI SDK too.
  const callsOpenAi = outcome.client?.kind === "wrapper" || outcome.callSites.some((s) => s.state === "rewritten" && /(^|\.)execFileSync$/.test(s.callee));
  const add: Record<string, string> = { "prom-client": ownRanges["prom-client"] ?? "*" };
  if (!callsOpenAi) return { edits: { add } };
  add["openai"] = ownRanges["openai"] ?? "*";
  const declared = declaredDependencies(text)["openai"];
  const lowest = declared === undefined ? undefined : /(\d+)(?:\.(\d+))?/.exec(declared);
  if (!declared || !lowest) return { edits: { add } };
  const major = Number(lowest[1]);
  const minor = Number(lowest[2] ?? 0);
  if (major < OPENAI_WITH_RESPONSES.major) return { edits: { add }, tooOld: declared };
  if (major === OPENAI_WITH_RESPONSES.major && minor < OPENAI_WITH_RESPONSES.minor) {
    return { edits: { add, raise: { openai: OPENAI_WITH_RESPONSES.range } }, raised: { from: declared, to: OPENAI_WITH_RESPONSES.range } };
  }
  return { edits: { add } };
}
