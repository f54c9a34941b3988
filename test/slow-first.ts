import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The files that take longest by the clock, started first, so that no long one starts last and
 * holds the whole run up: vitest orders files by the durations it cached on the last run, but a
 * fresh clone (CI) has no cache and would run them in name order. Files that keep the CPU busy
 * (migrations, servers under tsx, type checks) alternate with files that mostly wait (on a stub's
 * latency, a Python interpreter, Redis, a 429 pause), so the first three workers do not all
 * compete for two cores at once. Files not listed keep vitest's order after these.
 */
export const SLOW_FIRST = [
  "test/e2e/frameworks.test.ts",
  "test/verify/verify.test.ts",
  "test/python/runtime.test.ts",
  "test/fidelity/wrappers-e2e.test.ts",
  "test/redis/dashboard.test.ts",
  "test/cli/cli.test.ts",
  "test/redis/python.test.ts",
  "test/transforms/fixtures.test.ts",
  "test/runtime/adaptive.test.ts",
  "test/transforms/fixtures-frameworks.test.ts",
  "test/python/fastapi-e2e.test.ts",
  "test/transforms/fixtures-gate-call-sites.test.ts",
  "test/python/guide-e2e.test.ts",
  "test/install/tarball.test.ts",
  "test/python/aiohttp-e2e.test.ts",
  "test/safety/bad-input.test.ts",
  "test/e2e/express.test.ts",
  "test/languages/sdk-rows-cli.test.ts",
  "test/safety/interrupted-run.test.ts",
];

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const gone = SLOW_FIRST.filter((file) => !existsSync(join(root, file)));
    if (gone.length > 0) throw new Error(`test/slow-first.ts lists files that do not exist: ${gone.join(", ")}`);
    const byCache = await super.sort(files);
    const rank = (file: TestSpecification): number => {
      const index = SLOW_FIRST.indexOf(relative(root, file.moduleId).split("\\").join("/"));
      return index === -1 ? SLOW_FIRST.length : index;
    };
    return byCache.map((file, order) => ({ file, order })).sort((a, b) => rank(a.file) - rank(b.file) || a.order - b.order).map(({ file }) => file);
  }
}
