/**
 * Servers started by verify and the benchmark: each in a process group of its own (detached), so
 * that stopping it also stops what its start command started (`npm start` → sh → tsx → node).
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { connect, createServer } from "node:net";

/** What the last lines of a server's output are kept for: the message when it does not boot. */
const OUTPUT_KEPT = 8_000;

export interface ServerProcess {
  /** Process id of the group leader, which is also the process group id. */
  pid: number;
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  /** The last few thousand characters the server printed. */
  output(): string;
  /** Stops the whole group: SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export class BootError extends Error {
  constructor(
    message: string,
    /** What the server printed before it gave up. */
    readonly output = "",
  ) {
    super(message);
  }
}

const running = new Set<number>();
/** Set on Ctrl-C: from then on no server may start, or it would outlive us. */
let interrupted = false;

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => done(typeof address === "object" && address ? address.port : 0));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
  });
}

export interface GroupMember {
  pid: number;
  /** One-letter state from /proc: R, S, D, Z (zombie), ... */
  state: string;
  /** CPU time in clock ticks: own user + system, and that of its children it has waited for. */
  cpuTicks: number;
}

/** The processes of a group, from /proc (Linux); undefined where there is no /proc. */
export function groupMembers(pgid: number): GroupMember[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return undefined;
  }
  const members: GroupMember[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // Fields after the command name, which is in parentheses and may hold spaces: state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) !== pgid) continue;
    const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
    members.push({ pid: Number(entry), state: fields[0]!, cpuTicks: utime! + stime! + cutime! + cstime! });
  }
  return members;
}

/**
 * Whether any process of the group still runs. Zombies do not count: a grandchild orphaned by the
 * shell is reaped by init whenever init gets to it, which can take a second or two.
 */
function groupAlive(pgid: number): boolean {
  const members = groupMembers(pgid);
  if (members) return members.some((m) => m.state !== "Z");
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

async function stopGroup(pid: number, graceMs: number): Promise<void> {
  signalGroup(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 50));
  if (groupAlive(pid)) signalGroup(pid, "SIGKILL");
  running.delete(pid);
}

/**
 * Runs `command` through the shell in `cwd` with PORT set, and resolves once 127.0.0.1:PORT
 * accepts connections. Rejects with a BootError (carrying the server's output) when the server
 * exits first or does not listen within `bootTimeoutMs`.
 */
export async function bootServer(options: {
  command: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  port?: number;
  bootTimeoutMs?: number;
}): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  if (interrupted) throw new BootError(`not starting \`${options.command}\`: interrupted`);
  const child = spawn("/bin/sh", ["-c", options.command], {
    cwd: options.cwd,
    env: { ...options.env, PORT: String(port) },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = child.pid;
  if (pid === undefined) throw new BootError(`could not start \`${options.command}\``);
  running.add(pid);
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  let exitCode: number | null | undefined;
  child.once("exit", (code, signal) => {
    exitCode = code ?? (signal ? -1 : null);
  });
  const server: ServerProcess = {
    pid,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    stop: (graceMs = 5_000) => stopGroup(pid, graceMs),
  };

  const deadline = Date.now() + (options.bootTimeoutMs ?? 60_000);
  for (;;) {
    if (exitCode !== undefined) {
      await server.stop(0);
      throw new BootError(`\`${options.command}\` exited (code ${exitCode}) before it listened on port ${port}`, output);
    }
    if (await accepts(port)) return server;
    if (Date.now() > deadline) {
      await server.stop();
      throw new BootError(`\`${options.command}\` did not listen on 127.0.0.1:${port} within ${options.bootTimeoutMs ?? 60_000} ms`, output);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** Kills every group still running, synchronously: the last resort when the process exits. */
function killAllNow(): void {
  for (const pid of running) signalGroup(pid, "SIGKILL");
  running.clear();
}

/**
 * While `work` runs, Ctrl-C (SIGINT) and SIGTERM stop every server it started, run `cleanup`, and
 * then end this process by the same signal, as the shell expects.
 */
export async function stoppingServersOnSignals<T>(work: () => Promise<T>, cleanup: () => Promise<void>): Promise<T> {
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true;
    void (async () => {
      await Promise.allSettled([...running].map((pid) => stopGroup(pid, 2_000)));
      await cleanup().catch(() => undefined);
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
      // Dying by the signal skips "exit" listeners.
      killAllNow();
      process.kill(process.pid, signal);
    })();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("exit", killAllNow);
  try {
    return await work();
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    process.removeListener("exit", killAllNow);
  }
}
