// `--help`, `--version` and `rollback` answer at once: they load no parser. scan loads them when it runs.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Script } from "node:vm";
import { describe, expect, it } from "vitest";
import { copyServer, removeScratch, repoRoot } from "../engine/helpers.js";

const bin = join(repoRoot, "bin", "llm-migrate.js");
const probe = join(repoRoot, "test", "cli", "report-heavy-modules.cjs");

function heavyModulesLoadedBy(...args: string[]): string {
  return heavyModulesReport(...args).main;
}

/** What the main thread loaded, and what the prefetch's worker thread loaded, if one ran. */
function heavyModulesReport(...args: string[]): { main: string; worker?: string } {
  const run = spawnSync(process.execPath, ["--require", probe, bin, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return {
    main: /^heavy modules: (.*)$/m.exec(run.stderr)?.[1] ?? `no report: ${run.stderr}`,
    worker: /^worker heavy modules: (.*)$/m.exec(run.stderr)?.[1],
  };
}

describe("lazy loading", () => {
  it.each([["--version"], ["--help"], ["scan", "--help"], ["apply", ".", "--pool-size", "0"]])("%j loads no parser", (...args) => {
    expect(heavyModulesLoadedBy(...args)).toBe("none");
  });

  it("rollback loads no parser", () => {
    const dir = copyServer("express-ts");
    try {
      expect(heavyModulesLoadedBy("rollback", dir)).toBe("none");
      // The tree is read in a worker thread while the main thread loads the parsers; the worker loads none.
      const scan = heavyModulesReport("scan", dir);
      expect(scan.main).toContain("ts-morph");
      expect(scan.worker).toBe("none");
    } finally {
      removeScratch(dir);
    }
  });
});

describe("TypeScript's code cache", () => {
  it("saved by the build, fits this Node: the CLI loads the compiler's bytecode instead of compiling it", () => {
    const require = createRequire(import.meta.url);
    const common = createRequire(require.resolve("ts-morph")).resolve("@ts-morph/common");
    const filename = join(dirname(common), "typescript.js");
    const cachedData = readFileSync(join(repoRoot, "dist", "typescript.code-cache"));
    const script = new Script(Module.wrap(readFileSync(filename, "utf8")), { filename, cachedData });
    expect(script.cachedDataRejected).toBe(false);
  });
});
