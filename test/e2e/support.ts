// Helpers for end-to-end tests: copy a bundled server, run the CLI, start servers on loopback.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, expect } from "vitest";
import { isInCanary } from "../../runtime/index.js";
import { startOpenAiStub, type OpenAiStub } from "../../src/stub/openai-stub.js";
import { freePort } from "../../src/verify/processes.js";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(repoRoot, "bin", "llm-migrate.js");

/** A copy of `fixtures/servers/<name>/input` in a scratch folder, with the repo's node_modules linked in. */
export function copyServer(name: string): string {
  // Outside the repo, so the copy is not inside our own git work tree.
  const scratch = mkdtempSync(join(tmpdir(), "llm-migrate-e2e-"));
  const dir = join(scratch, name);
  cpSync(join(repoRoot, "fixtures", "servers", name, "input"), dir, { recursive: true });
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

export function removeScratch(dir: string): void {
  rmSync(resolve(dir, ".."), { recursive: true, force: true });
}

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

const cliMain = pathToFileURL(join(repoRoot, "dist", "src", "cli", "index.js")).href;

/**
 * Runs the CLI on these arguments and resolves with its exit code and output. `scan`, `apply` and
 * `rollback` run the built CLI's `main()` (dist/, as `npm run build` made it) in this process:
 * the code `bin/llm-migrate.js` runs, which adds only an EPIPE guard, without a Node start and a
 * TypeScript load per run (about 0.4 s of CPU each, and these suites run about 60). `verify` boots
 * servers and traps signals, so it runs as its own process. test/cli, test/safety and
 * test/install run the bin itself, as users do.
 */
export async function llmMigrate(...args: string[]): Promise<CliRun> {
  if (args[0] === "verify") return llmMigrateProcess(...args);
  const { main } = (await import(/* @vite-ignore */ cliMain)) as typeof import("../../src/cli/index.js");
  let stdout = "";
  let stderr = "";
  const io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    // No LLM_MIGRATE_DEBUG a developer may have set: errors are asserted as users see them.
    env: { ...process.env, NO_COLOR: "1", LLM_MIGRATE_DEBUG: undefined },
  };
  const status = await main(["node", cli, ...args], io);
  return { status, stdout, stderr };
}

/** `node bin/llm-migrate.js ...args` as a child process, without blocking this one. */
export async function llmMigrateProcess(...args: string[]): Promise<CliRun> {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [status] = (await once(child, "close")) as [number | null];
  return { status, stdout, stderr };
}

/** Every file below dir (but node_modules), relative path → bytes. */
export function snapshotTree(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (at: string): void => {
    for (const entry of readdirSync(at)) {
      if (entry === "node_modules") continue;
      const path = join(at, entry);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return files;
}

export interface RunningServer {
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts `command` in `cwd` and resolves once it prints a line containing `ready`. */
export async function startServer(
  command: string[],
  cwd: string,
  env: Record<string, string>,
  ready = "listening",
): Promise<RunningServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(command[0]!, command.slice(1), {
    cwd,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(ready)) {
        clearTimeout(timer);
        done();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

/**
 * The set-up every end-to-end suite shares: a stub upstream at 300 ms, a scratch copy of
 * `fixtures/servers/<name>/input` and its bytes before the run (for the rollback check); both are
 * torn down after the suite. Read the fields inside tests and hooks, once beforeAll has run.
 */
export function useScratchServer(name: string): { stub: OpenAiStub; dir: string; original: Map<string, Buffer> } {
  const scratch = {} as { stub: OpenAiStub; dir: string; original: Map<string, Buffer> };
  beforeAll(async () => {
    scratch.stub = await startOpenAiStub({ latencyMs: 300 });
    scratch.dir = copyServer(name);
    scratch.original = snapshotTree(scratch.dir);
  });
  afterAll(async () => {
    await scratch.stub?.close();
    if (scratch.dir) removeScratch(scratch.dir);
  });
  return scratch;
}

/** A scratch folder outside the repo for one suite, removed after it: read `.dir` inside tests. */
export function useScratchFolder(prefix: string): { dir: string } {
  const scratch = { dir: "" };
  beforeAll(() => {
    scratch.dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    if (scratch.dir) rmSync(scratch.dir, { recursive: true, force: true });
  });
  return scratch;
}

/** After one call to `server`: the one model request `stub` received (endpoint, model) and the server's path counts. */
export async function oneCallSeen(server: RunningServer, stub: OpenAiStub): Promise<{ endpoint: string; model: string; paths: unknown }> {
  const metrics = await fetch(`${server.url}/metrics/llm`).then((r) => r.json());
  const received = stub.stats().received;
  expect(received, server.output()).toHaveLength(1);
  return { endpoint: received[0]!.endpoint, model: received[0]!.model, paths: metrics.paths };
}

/**
 * The first user ids (`${prefix}0`, `${prefix}1`, …) on each side of a canary of `percent`, as
 * the runtime buckets them: `inside` ids in the canary and `outside` ids out of it.
 */
export function canaryUsers(percent: number, counts: { inside: number; outside: number }, prefix = "user-"): { inside: string[]; outside: string[] } {
  const users = { inside: [] as string[], outside: [] as string[] };
  for (let i = 0; users.inside.length < counts.inside || users.outside.length < counts.outside; i++) {
    const user = `${prefix}${i}`;
    const side = isInCanary(user, percent) ? users.inside : users.outside;
    if (side.length < (side === users.inside ? counts.inside : counts.outside)) side.push(user);
  }
  return users;
}
