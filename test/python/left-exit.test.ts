// A Python tree whose only LLM call cannot be gated: apply exits with the "LLM call left" code,
// writes nothing and names the call at file:line.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { EXIT } from "../../src/cli/exit-codes.js";
import { llmMigrate, snapshotTree } from "../e2e/support.js";
import { PYTHON_FIXTURES } from "./helpers.js";

it("exits with the left code, writes nothing and names the call under a threading.Lock", () => {
  const dir = mkdtempSync(join(tmpdir(), "llm-migrate-py-left-"));
  try {
    cpSync(join(PYTHON_FIXTURES, "gate-call-sites", "thread-lock-left", "input"), dir, { recursive: true });
    const before = snapshotTree(dir);
    const applied = llmMigrate("apply", dir);
    expect(applied.status).toBe(EXIT.llmCallsLeft);
    expect(applied.stdout).toMatch(/main\.py:22/);
    expect(applied.stdout).toContain("PY_THREAD_LOCK");
    expect(snapshotTree(dir)).toEqual(before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
