import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { describeWithFastapi } from "../debian-python.js";

const execFileAsync = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
// Debian's interpreter sees python3-fastapi, python3-uvicorn and python3-httpx; the pyenv python3 on PATH does not.
const python = "/usr/bin/python3";

/** Runs one module of runtime/python/tests under unittest; resolves with its report, rejects with it. */
async function runPythonTests(module: string): Promise<string> {
  const args = ["-m", "unittest", "discover", "-s", "runtime/python/tests", "-p", module, "-v"];
  try {
    const { stderr } = await execFileAsync(python, args, {
      cwd: repoRoot,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
      timeout: 180_000,
    });
    return stderr;
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${python} ${args.join(" ")} failed:\n${stdout}${stderr}`);
  }
}

describeWithFastapi("Python runtime for FastAPI backends", () => {
  it("passes its unit tests against a local OpenAI-compatible upstream", async () => {
    const report = await runPythonTests("test_llm_api.py");
    expect(report).toMatch(/^OK\b/m);
  }, 180_000);

  it("pauses after a 429 within the cap, fails calls the pause outlasts at once, and adapts its limit to the upstream's capacity", async () => {
    const report = await runPythonTests("test_rate_limits.py");
    expect(report).toMatch(/^OK\b/m);
  }, 180_000);

  it("serves the legacy FastAPI example one chat at a time, and pool-size at a time once migrated", async () => {
    const report = await runPythonTests("test_fastapi_example.py");
    expect(report).toMatch(/test_serves_nine_concurrent_chats_one_at_a_time .* ok$/m);
    expect(report).toMatch(/test_migrated_by_hand_it_serves_pool_size_chats_at_once .* ok$/m);
    expect(report).toMatch(/^OK\b/m);
  }, 180_000);
});
