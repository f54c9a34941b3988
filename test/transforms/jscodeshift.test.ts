// Our transforms driven by jscodeshift's own runner, as the README tells teams to run them.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { FIXTURES, REPO } from "./helpers.js";

it("migrates a file through the jscodeshift CLI with the README's options", () => {
  const example = join(FIXTURES, "servers/express-ts");
  const dir = join(mkdtempSync(join(tmpdir(), "llm-migrate-jscodeshift-")), "server");
  try {
    cpSync(join(example, "input"), dir, { recursive: true });
    const run = spawnSync(
      process.execPath,
      [
        join(REPO, "node_modules/jscodeshift/bin/jscodeshift.js"),
        "--no-babel",
        "--fail-on-error",
        "--run-in-band",
        "--poolSize=10",
        "-t",
        join(REPO, "dist/transforms/jscodeshift.js"),
        "src/server.ts",
      ],
      // jscodeshift colours its summary whenever the environment allows it.
      { cwd: dir, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" } },
    );
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout.replace(/\x1b\[[0-9;]*m/g, "")).toMatch(/^1 ok$/m);
    expect(readFileSync(join(dir, "src/server.ts"), "utf8")).toBe(readFileSync(join(example, "output/src/server.ts"), "utf8"));
  } finally {
    rmSync(join(dir, ".."), { recursive: true, force: true });
  }
});
