// No false edits: a slice of large real trees with no shared LLM client (the TypeScript compiler's
// lib, express, commander, the openai SDK whose comments are full of `new OpenAI()` examples), in
// a scratch git repository: `apply` changes nothing and exits 0. The full trees (and fastify):
// `npx tsx scripts/no-false-edits.ts`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyAndCompare, describeRun, scratchRepository, sliceTrees } from "../../scripts/no-false-edits.js";

describe("no false edits", () => {
  const scratch = mkdtempSync(join(tmpdir(), "llm-migrate-no-false-edits-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("apply over real trees without a shared LLM client changes nothing and exits 0", () => {
    const dir = join(scratch, "real-trees");
    scratchRepository(dir, sliceTrees());
    const result = applyAndCompare(dir);
    console.log(describeRun("no false edits, CI slice", result));
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`llm-migrate ${dir}: nothing to do`);
    expect(result.changes).toEqual([]);
    expect(result.sourceFiles).toBeGreaterThan(40);
  });
});
