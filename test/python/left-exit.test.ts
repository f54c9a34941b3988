// A Python tree whose only LLM call cannot be gated: apply exits with the "LLM call left" code,
// writes nothing and names the call at file:line.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { EXIT } from "../../src/cli/exit-codes.js";
import { llmMigrate, snapshotTree } from "../e2e/support.js";
import { PYTHON_FIXTURES } from "../paths.js";

it.each([
  // a threading.Lock around the call
  ["thread-lock-left", /main\.py:22/, "PY_THREAD_LOCK"],
  // the app's own llm_api.py sits where the runtime would go: it is not written over
  ["runtime-name-taken", /main\.py:11/, "PY_RUNTIME_NAME_TAKEN"],
])("exits with the left code, writes nothing and names the call: %s", async (name, where, reason) => {
  const dir = mkdtempSync(join(tmpdir(), "llm-migrate-py-left-"));
  try {
    cpSync(join(PYTHON_FIXTURES, "gate-call-sites", name, "input"), dir, { recursive: true });
    const before = snapshotTree(dir);
    const applied = await llmMigrate("apply", dir);
    expect(applied.status).toBe(EXIT.llmCallsLeft);
    expect(applied.stdout).toMatch(where);
    expect(applied.stdout).toContain(reason);
    expect(snapshotTree(dir)).toEqual(before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
