import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { planMigration, type MigrationPlan } from "../../src/engine/index.js";
import { paintFor } from "../../src/report/colour.js";
import { unifiedDiff } from "../../src/report/diff.js";
import { jsonReport } from "../../src/report/json.js";
import { textSummary } from "../../src/report/text.js";
import { gateCalls } from "../engine/fixtures/gate-calls.js";
import { copyFixture, removeScratch } from "../engine/helpers.js";

const plain = paintFor({ isTTY: false }, {});

describe("the report", () => {
  let dir: string;
  let plan: MigrationPlan;
  beforeEach(async () => {
    dir = copyFixture("legacy-server");
    writeFileSync(join(dir, "src", "blob.js"), Buffer.from("llm\0"));
    plan = await planMigration(dir, { poolSize: 10, canaryPercent: 100 }, { migrate: gateCalls });
  });
  afterEach(() => removeScratch(dir));

  it("lists every call site with file:line, what happens to it and why, then findings, files and next steps", () => {
    const text = textSummary(plan, "apply", "./server", plain);
    expect(text).toContain(
      [
        "Call sites: 2 rewritten, 1 left for a human, 0 already migrated",
        "  rewritten     src/server.ts:10  llmClient.generateResponse (canary key: userId)",
        "  left for you  src/summarise.ts:5  llmClient.generateResponse MARKED_BY_USER: the user asked to leave this call",
        "  rewritten     src/summarise.ts:10  llmClient.generateResponse (canary key: userId)",
        "  1 LLM call is left for a human (exit code 7)",
        "",
        "Findings:",
        "  warning  src/blob.js  skipped-binary-file: contains a NUL byte, not read",
      ].join("\n"),
    );
    expect(text).toContain("  modified  src/server.ts\n");
    expect(text).toContain("  created   src/llm-runtime/index.ts\n");
    expect(text).toMatch(
      /Next steps:\n  1\. review the changes: git diff\n  2\. install the runtime's dependencies \(openai, prom-client\): npm install\n  3\. run your tests\n  4\. to monitor it \(not written into your project\): the Prometheus scrape job \/\S+\/monitoring\/prometheus\.yml and the Grafana dashboard \/\S+\/monitoring\/grafana-dashboard\.json\n  5\. to undo this run: llm-migrate rollback \.\/server\n  6\. to keep it: delete \.llm-migrate\/ \(the backups; leave it out of your commits\)\n$/,
    );
  });

  it("says what scan would do, in the future tense", () => {
    expect(textSummary(plan, "scan", "./server", plain)).toContain("  will rewrite  src/server.ts:10  llmClient.generateResponse");
  });

  it("diffs modified files from a/ to b/ and created files from /dev/null", () => {
    const diff = unifiedDiff(plan.changes, plain);
    expect(diff).toContain("--- a/src/server.ts\n+++ b/src/server.ts\n");
    expect(diff).toContain("--- /dev/null\n+++ b/src/llm-runtime/index.ts\n");
    expect(diff).toContain("+LLM_POOL_SIZE=10\n");
  });

  it("has a stable JSON shape", () => {
    const report = jsonReport(plan, "dry-run", "9.9.9");
    expect(Object.keys(report)).toEqual(["version", "dir", "status", "entryFile", "client", "framework", "callSites", "findings", "files"]);
    expect(report).toMatchObject({ version: "9.9.9", dir, status: "dry-run", entryFile: null, client: { name: "llmClient", kind: "wrapper" }, framework: null });
    expect(report.files).toContainEqual({ path: "package.json", action: "modified" });
  });
});

describe("colour", () => {
  it("is used on a terminal only, and never with NO_COLOR", () => {
    expect(paintFor({ isTTY: true }, {})("red", "x")).toBe("\x1b[31mx\x1b[39m");
    expect(paintFor({ isTTY: true }, { NO_COLOR: "1" })("red", "x")).toBe("x");
    expect(paintFor({ isTTY: false }, {})("red", "x")).toBe("x");
  });
});
