import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { describeWithFastapi } from "../debian-python.js";

const execFileAsync = promisify(execFile);
const testsDir = fileURLToPath(new URL("../../runtime/python/tests", import.meta.url));
// Debian's interpreter sees python3-fastapi, python3-uvicorn and python3-httpx; the pyenv python3 on PATH does not.
const python = "/usr/bin/python3";

/**
 * Runs one module of runtime/python/tests under unittest; resolves with its report, rejects with
 * it. The three modules run side by side: they spend their time waiting on the stub's latency and
 * pauses, not on the CPU (one interpreter per class would cost more imports than it saves).
 */
async function runPythonTests(module: string): Promise<string> {
  const args = ["-m", "unittest", "discover", "-s", ".", "-p", `${module}.py`, "-v"];
  try {
    const { stderr } = await execFileAsync(python, args, {
      cwd: testsDir,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
      timeout: 180_000,
    });
    expect(stderr).toMatch(/^OK\b/m);
    return stderr;
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${python} ${args.join(" ")} failed:\n${stdout}${stderr}`);
  }
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
