// Seen: the runtime started before dotenv.config(), so LLM_POOL_SIZE=4 in .env was ignored (poolSize
// 10). The dotenv-after-app fixture, migrated by the CLI, run with a real .env read by the real
// dotenv: the metrics show the pool size from .env.
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { llmMigrate, repoRoot, startServer } from "../e2e/support.js";

describe("a pool size in .env, loaded by dotenv", () => {
  const scratch = mkdtempSync(join(tmpdir(), "llm-migrate-dotenv-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("reaches the runtime: GET /metrics/llm says poolSize 4", async () => {
    const dir = join(scratch, "app");
    cpSync(join(repoRoot, "fixtures", "start-async-client", "dotenv-after-app", "input"), dir, { recursive: true });
    symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
    writeFileSync(join(dir, ".env"), "LLM_POOL_SIZE=4\nOPENAI_API_KEY=sk-test-not-a-secret\n");
    const applied = await llmMigrate("apply", dir);
    expect(applied.status, applied.stdout + applied.stderr).toBe(0);

    // Only .env may set it: dotenv leaves a variable the environment already has, even an empty one.
    expect(process.env["LLM_POOL_SIZE"]).toBeUndefined();
    const preload = join(repoRoot, "test", "fidelity", "listen-on-port.cjs");
    const server = await startServer([process.execPath, "--require", preload, "src/server.js"], dir, {});
    try {
      const metrics = await fetch(`${server.url}/metrics/llm`).then((r) => r.json());
      expect(metrics.poolSize, server.output()).toBe(4);
    } finally {
      await server.stop();
    }
  });
});
