// The Python runtime's shared limit (runtime/python/llm_shared_limit.py) under its own unittest
// module, against a real redis-server. Needs Debian's redis-server and python3-redis (.ci/run installs them).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DEBIAN_PYTHON, runPythonUnittest } from "../debian-python.js";
import { canImport } from "../python-imports.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const ready =
  canImport("redis.asyncio, httpx") &&
  spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
if (!ready) {
  const message = `${DEBIAN_PYTHON} cannot import redis and httpx, or redis-server is missing: apt-get install -y redis-server python3-redis python3-httpx`;
  if (process.env.CI) throw new Error(message);
  console.warn(`skipping the Python shared-limit tests: ${message}`);
}

describe.skipIf(!ready)("Python runtime: shared limit on Redis", () => {
  it("passes its unit tests: global limit, lease expiry, Redis down, Redis back", async () => {
    const stderr = await runPythonUnittest(join(repoRoot, "runtime", "python", "tests"), "test_shared_limit.py", 45_000);
    expect(stderr).toMatch(/^OK\b/m);
    expect(stderr).toMatch(/^Ran 4 tests\b/m);
  }, 60_000);
});
