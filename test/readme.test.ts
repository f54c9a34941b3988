// The README is part of the product: its tables must say what the code does.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EXIT } from "../src/cli/exit-codes.js";
import { reasonTableMarkdown } from "../src/report/reason-table.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("README", () => {
  it("shows every reason code the transforms report, as the code describes it (npx tsx scripts/reason-table.ts)", () => {
    expect(readme).toContain(reasonTableMarkdown());
  });

  it("documents every exit code", () => {
    for (const code of Object.values(EXIT)) expect(readme).toMatch(new RegExp(`^\\| ${code} \\|`, "m"));
  });

  it("installs the same Debian packages for the tests as CI does", () => {
    const ci = readFileSync(new URL("../.ci/run", import.meta.url), "utf8");
    const packages = (text: string) => new Set(/apt-get install([^\n>]*)/.exec(text)?.[1]?.split(/\s+/).filter((word) => /^[a-z]/.test(word)));
    expect(packages(readme)).toEqual(packages(ci));
  });

  it("starts with the two commands a fresh clone needs", () => {
    expect(readme).toContain("npm ci && npm run demo");
    expect(readme).toContain("npm test");
  });
});
