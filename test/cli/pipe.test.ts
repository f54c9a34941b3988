// `llm-migrate apply . --dry-run | head -1`: the reader hangs up early; the CLI stops quietly.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { copyServer, removeScratch, repoRoot } from "../engine/helpers.js";

let dir: string;
beforeEach(() => {
  dir = copyServer("express-ts");
});
afterEach(() => removeScratch(dir));

it("ends without a stack trace when the reader of its output goes away", () => {
  const cli = join(repoRoot, "bin", "llm-migrate.js");
  const run = spawnSync("bash", ["-c", `"${process.execPath}" "${cli}" apply "${dir}" --dry-run | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`], {
    encoding: "utf8",
  });
  expect(run.stderr).toBe("");
  expect(run.stdout).toBe("0\n");
});
