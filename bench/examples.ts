// The bundled example servers as the benchmarks run them: copied out of the repo and migrated by the CLI.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("..", import.meta.url));
export const PYTHON = "/usr/bin/python3";

/** How to start each example in its folder, with PORT set. */
export const START = {
  "express-ts": `"${process.execPath}" --import tsx src/server.ts`,
  fastapi: `${PYTHON} -m uvicorn app.main:app --host 127.0.0.1 --port "$PORT" --no-access-log`,
};

/** A chat request body for an example (the user key's name differs). */
export const chatBody = (key: string) => JSON.stringify({ [key]: "bench-user", messages: [{ role: "user", content: "hello" }] });

/** A copy of fixtures/servers/<name>/input in a scratch folder, with the repo's node_modules linked in. */
export function copyExample(name: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), "llm-migrate-bench-")), name);
  cpSync(join(repoRoot, "fixtures", "servers", name, "input"), dir, { recursive: true });
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

/** Migrates with the CLI as a user would; the reason when it migrated nothing. */
export function migrate(dir: string, poolSize: number): string | undefined {
  const run = spawnSync(process.execPath, [join(repoRoot, "bin", "llm-migrate.js"), "apply", dir, "--pool-size", String(poolSize), "--json"], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  if (run.status !== 0) return `llm-migrate apply exited ${run.status}: ${run.stderr.trim().split("\n")[0]}`;
  const report = JSON.parse(run.stdout) as { status: string; callSites: { state: string }[] };
  if (!report.callSites.some((site) => site.state === "rewritten")) return `llm-migrate apply rewrote no call site (status ${report.status})`;
  return undefined;
}
