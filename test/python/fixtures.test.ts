import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pythonTransforms } from "../../transforms/python/index.js";
import { expectedTree, migratePythonTree, pyCompile, PYTHON_FIXTURES, readTree, REPO, writeOutputs } from "./helpers.js";

const update = process.env.UPDATE_FIXTURES === "1";

/**
 * fixtures/python/<transform>/<case>/ run that transform alone. The Python servers
 * (fixtures/servers/fastapi*, aiohttp) run with the TypeScript ones, in fixtures.test.ts.
 */
const suites = pythonTransforms.map((t) => ({ dir: join(PYTHON_FIXTURES, t.name), only: [t.name] }));

for (const { dir, only } of suites) {
  const names = existsSync(dir) ? readdirSync(dir).filter((name) => existsSync(join(dir, name, "input"))) : [];
  describe(`fixtures/${dir.slice(join(REPO, "fixtures").length + 1)}`, () => {
    it.each(names)("%s", async (name) => {
      const caseDir = join(dir, name);
      const input = readTree(join(caseDir, "input"));
      const first = await migratePythonTree(input, only);
      if (update) writeOutputs(caseDir, input, first.sources);

      const expected = expectedTree(caseDir);
      for (const [path, text] of first.sources) expect(text, path).toBe(expected.get(path));

      const second = await migratePythonTree(new Map([...input, ...first.sources]), only);
      for (const [path, text] of second.sources) expect(text, `second run changed ${path}`).toBe(first.sources.get(path));
      const changed = [...first.sources].some(([path, text]) => input.get(path) !== text);
      if (changed) expect(second.outcome.alreadyMigrated || second.outcome.runtimeDir === undefined).toBe(true);

      expect(pyCompile(new Map([...input, ...first.sources]), first.outcome.runtimeDir)).toBe("");
      // Every gate-call-sites case but those named -unchanged (a per-request client, left alone unreported) finds call sites.
      if (only[0] === "gate-call-sites" && !name.endsWith("-unchanged")) expect(first.outcome.callSites.length).toBeGreaterThan(0);
    });
  });
}
