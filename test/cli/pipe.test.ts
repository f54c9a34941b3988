// `llm-migrate apply . --dry-run | head`: the reader hangs up early; the CLI stops quietly.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { copyServer, removeScratch, repoRoot } from "../engine/helpers.js";

let dir: string;
beforeEach(() => {
  dir = copyServer("express-ts");
});
afterEach(() => removeScratch(dir));

it("ends without a stack trace when the reader of its output goes away", async () => {
  const child = spawn(process.execPath, [join(repoRoot, "bin", "llm-migrate.js"), "apply", dir, "--dry-run"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.once("data", () => child.stdout.destroy());
  const code = await new Promise<number | null>((done) => child.once("exit", done));
  expect(stderr).toBe("");
  expect(code).toBe(0);
});
