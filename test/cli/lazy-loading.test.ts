// `--help`, `--version` and `rollback` answer at once: they load no parser. scan loads them when it runs.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
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
  // In a fresh process, as the CLI starts: a test worker that already compiled TypeScript (an
  // end-to-end suite ran the CLI in it) gets V8's compiled script back, and V8 then reports the
  // cache as not taken.
  it("saved by the build, fits this Node: the CLI loads the compiler's bytecode instead of compiling it", () => {
    // The built CLI's own loader: importing its ts-morph module loads TypeScript with the cache.
    const check = `
      await import("./dist/src/languages/typescript/ts-morph.js");
      const { codeCacheRejected } = await import("./dist/src/languages/typescript/typescript-code-cache.js");
      process.stdout.write(String(codeCacheRejected()));`;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", check], { cwd: repoRoot, encoding: "utf8" });
    expect({ stdout: run.stdout, stderr: run.stderr }).toEqual({ stdout: "false", stderr: "" });
  });
});
