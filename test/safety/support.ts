// Running the built CLI as users do (`node bin/llm-migrate.js`, after `npm run build`), optionally
// with a fault loaded into it, and reading what a run left behind.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../engine/helpers.js";

const bin = join(repoRoot, "bin", "llm-migrate.js");
const faultPreload = join(repoRoot, "test", "safety", "fault-after-writes.cjs");

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.LLM_MIGRATE_DEBUG;
  return env;
}

export function llmMigrate(...args: string[]): CliRun {
  const run = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: cliEnv(), stdio: ["ignore", "pipe", "pipe"] });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

export type Fault = "SIGKILL" | "SIGSTOP";

/**
 * Starts `llm-migrate <args>` with a fault: right after its `writes`-th file lands in the target
 * (not counting .llm-migrate/), the process sends itself `fault`. `marker` is written just before.
 * A first argument `--before-rename` signals just before that file's rename instead.
 */
export function llmMigrateWithFault(
  fault: Fault,
  writes: number,
  marker: string,
  ...args: string[]
): { child: ChildProcess; done: Promise<CliRun> } {
  const at = args[0] === "--before-rename" ? args.shift() : undefined;
  const child = spawn(process.execPath, ["--require", faultPreload, bin, ...args], {
    env: cliEnv({
      SAFETY_FAULT: fault,
      SAFETY_FAULT_AFTER_WRITES: String(writes),
      SAFETY_FAULT_MARKER: marker,
      ...(at ? { SAFETY_FAULT_BEFORE_RENAME: "1" } : {}),
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliRun>((resolve) => child.once("close", (status, signal) => resolve({ status: status ?? (signal ? -1 : null), stdout, stderr })));
  return { child, done };
}

/** Polls until `condition` holds (waiting for an event, not a speed check). */
export async function until(condition: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const giveUpAt = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

export function fileHash(dir: string, path: string): string | null {
  const abs = join(dir, path);
  return existsSync(abs) ? sha256(readFileSync(abs)) : null;
}

/** The one-line error contract: exactly one line, prefixed, no stack trace. */
export function expectOneLineError(run: CliRun): string {
  const lines = run.stderr.split("\n");
  if (lines.length !== 2 || lines[1] !== "" || !lines[0]!.startsWith("llm-migrate: ") || /\n\s+at /.test(run.stderr)) {
    throw new Error(`expected a one-line error, got:\n${run.stderr}`);
  }
  return lines[0]!;
}
