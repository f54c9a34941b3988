import { startServer } from "../e2e/support.js";
import { PYTHON } from "../paths.js";

/** A uvicorn server for `module:app` in `cwd` under Debian's Python, its LLM calls sent to `upstream`, with a pool of 3. */
export function startUvicorn(app: string, cwd: string, upstream: string, env: Record<string, string> = {}) {
  return startServer(["/bin/sh", "-c", `exec ${PYTHON} -m uvicorn ${app} --host 127.0.0.1 --port "$PORT"`], cwd, {
    OPENAI_BASE_URL: upstream,
    OPENAI_API_KEY: "sk-test-not-a-secret",
    PYTHONDONTWRITEBYTECODE: "1",
    LLM_POOL_SIZE: "3",
    ...env,
  }, "Uvicorn running");
}
