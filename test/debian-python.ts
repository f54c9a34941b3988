// Tests that run FastAPI under uvicorn need Debian's Python packages (pip cannot reach PyPI here).
// CI installs them (.ci/run) and must run these tests; elsewhere they are skipped with the command to run.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe } from "vitest";
import { canImport, DEBIAN_PYTHON } from "./python-imports.js";

export { DEBIAN_PYTHON };
const INSTALL = "apt-get install -y python3-fastapi python3-uvicorn python3-httpx";

const ready = canImport("fastapi, uvicorn, httpx");

if (!ready) {
  const message = `${DEBIAN_PYTHON} cannot import fastapi, uvicorn and httpx: ${INSTALL}`;
  if (process.env.CI) throw new Error(message);
  console.warn(`skipping the FastAPI tests: ${message}`);
}

/** `describe`, skipped (with a warning) where Debian's FastAPI packages are not installed, never in CI. */
export const describeWithFastapi = describe.skipIf(!ready);

const aiohttpReady = canImport("aiohttp, httpx");

if (!aiohttpReady) {
  const message = `${DEBIAN_PYTHON} cannot import aiohttp and httpx: apt-get install -y python3-aiohttp python3-httpx`;
  if (process.env.CI) throw new Error(message);
  console.warn(`skipping the aiohttp tests: ${message}`);
}

/** `describe`, skipped (with a warning) where Debian's aiohttp is not installed, never in CI. */
export const describeWithAiohttp = describe.skipIf(!aiohttpReady);

const requestsReady = ready && canImport("requests");

if (ready && !requestsReady) {
  const message = `${DEBIAN_PYTHON} cannot import requests: apt-get install -y python3-requests`;
  if (process.env.CI) throw new Error(message);
  console.warn(`skipping the requests wrapper tests: ${message}`);
}

/** `describe` for FastAPI apps that call with `requests`, skipped (with a warning) where Debian's python3-requests is missing, never in CI. */
export const describeWithRequests = describe.skipIf(!requestsReady);

/**
 * Runs the unittest modules of `dir` matching `pattern` under Debian's Python; resolves with the
 * report (unittest writes it to stderr), rejects with all the output. The interpreter gets only
 * PATH, HOME and TMPDIR from this process: a test worker's environment holds whatever earlier test
 * files left in it. Past `timeoutMs` it is stopped with SIGABRT, and faulthandler prints every
 * thread's stack first, so a hang says where it waited.
 */
export async function runPythonUnittest(dir: string, pattern: string, timeoutMs: number): Promise<string> {
  const args = ["-X", "faulthandler", "-m", "unittest", "discover", "-s", ".", "-p", pattern, "-v"];
  const env: NodeJS.ProcessEnv = { PYTHONDONTWRITEBYTECODE: "1" };
  for (const name of ["PATH", "HOME", "TMPDIR"]) if (process.env[name] !== undefined) env[name] = process.env[name];
  try {
    const { stderr } = await promisify(execFile)(DEBIAN_PYTHON, args, { cwd: dir, env, timeout: timeoutMs, killSignal: "SIGABRT" });
    return stderr;
  } catch (error) {
    const { stdout = "", stderr = "", signal } = error as { stdout?: string; stderr?: string; signal?: string };
    const why = signal === "SIGABRT" ? ` (still running after ${timeoutMs} ms)` : "";
    throw new Error(`${DEBIAN_PYTHON} ${args.join(" ")} failed${why}:\n${stdout}${stderr}`);
  }
}
