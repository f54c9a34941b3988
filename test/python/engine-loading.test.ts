// Every Python fixture through the engine's own file loading and relevance filter (what the CLI
// runs), not only the transform runner: both must find the same call sites.
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { planMigration } from "../../src/engine/index.js";
import { migratePythonTree, PYTHON_FIXTURES, readTree, REPO } from "./helpers.js";

const cases = [
  ...readdirSync(join(PYTHON_FIXTURES, "gate-call-sites")).map((name) => join(PYTHON_FIXTURES, "gate-call-sites", name)),
  ...["fastapi", "fastapi-guide", "fastapi-package-root", "aiohttp"].map((name) => join(REPO, "fixtures", "servers", name)),
].filter((dir) => existsSync(join(dir, "input")));

const sites = (outcome: { callSites: { file: string; line: number; state: string; callee: string }[] }) =>
  outcome.callSites.map(({ file, line, state, callee }) => ({ file, line, state, callee }));

describe("Python fixtures through the engine's loading", () => {
  it.each(cases.map((dir) => [dir.slice(REPO.length + 1), dir]))("%s", async (_name, dir) => {
    const scratch = mkdtempSync(join(tmpdir(), "llm-migrate-py-engine-"));
    try {
      cpSync(join(dir, "input"), scratch, { recursive: true });
      const plan = await planMigration(scratch, { poolSize: 10, canaryPercent: 100 }, { format: false });
      const direct = await migratePythonTree(readTree(join(dir, "input")));
      expect(sites(plan.outcome)).toEqual(sites(direct.outcome));
      // Every case but the per-request client (left as it is, unreported) has call sites.
      if (!dir.endsWith("-unchanged")) expect(plan.outcome.callSites.length).toBeGreaterThan(0);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
