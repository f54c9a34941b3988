import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { describeWithFastapi, runPythonUnittest } from "../debian-python.js";

const testsDir = fileURLToPath(new URL("../../runtime/python/tests", import.meta.url));

/**
 * Runs one module of runtime/python/tests under unittest; resolves with its report, rejects with
 * it. The three modules run side by side: they spend their time waiting on the stub's latency and
 * pauses, not on the CPU (one interpreter per class would cost more imports than it saves).
 */
async function runPythonTests(module: string): Promise<string> {
  const report = await runPythonUnittest(testsDir, `${module}.py`, 150_000);
  expect(report).toMatch(/^OK\b/m);
  return report;
}

describeWithFastapi("Python runtime for FastAPI backends", () => {
  it.concurrent("passes its unit tests against a local OpenAI-compatible upstream", async () => {
    await runPythonTests("test_llm_api");
  }, 180_000);

  it.concurrent("pauses after a 429 within the cap, fails calls the pause outlasts at once, and adapts its limit to the upstream's capacity", async () => {
    await runPythonTests("test_rate_limits");
  }, 180_000);

  it.concurrent("serves the legacy FastAPI example one chat at a time, and pool-size at a time once migrated", async () => {
    const report = await runPythonTests("test_fastapi_example");
    expect(report).toMatch(/test_serves_nine_concurrent_chats_one_at_a_time .* ok$/m);
    expect(report).toMatch(/test_migrated_by_hand_it_serves_pool_size_chats_at_once .* ok$/m);
  }, 180_000);
});
