import { readFileSync } from "node:fs";
import { mkdir, open, readFile, rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomically } from "./write-file.js";
import type { MigrationSettings } from "../../transforms/types.js";
import { BadInputError, RefusedError } from "./errors.js";

/** Everything a run keeps in the target lives in this folder; rollback removes it. */
export const STATE_DIR = ".llm-migrate";
export const MANIFEST = `${STATE_DIR}/manifest.json`;
export const LOCK = `${STATE_DIR}/lock`;
export const BACKUP_DIR = `${STATE_DIR}/backup`;

export interface ManifestFile {
  path: string;
  action: "modified" | "created";
  /** null for a created file. */
  sha256Before: string | null;
  sha256After: string;
  mode: number;
}

export interface Manifest {
  tool: "llm-migrate";
  version: string;
  createdAt: string;
  settings: MigrationSettings;
  files: ManifestFile[];
  /** Folders the run created, parents before children. */
  createdDirs: string[];
}

export async function readManifest(rootDir: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(join(rootDir, MANIFEST), "utf8");
  } catch {
    return undefined;
  }
  try {
    const manifest = JSON.parse(text) as Manifest;
    if (manifest.tool !== "llm-migrate" || !Array.isArray(manifest.files)) throw new Error("not an llm-migrate manifest");
    return manifest;
  } catch (error) {
    throw new BadInputError(MANIFEST, `unreadable: ${(error as Error).message}`);
  }
}

export async function writeManifest(rootDir: string, manifest: Manifest): Promise<void> {
  await writeFileAtomically(join(rootDir, MANIFEST), Buffer.from(JSON.stringify(manifest, null, 2) + "\n"), 0o644);
}

/**
 * Takes `.llm-migrate/lock` (created exclusively, holding our pid). A lock left by a process that
 * no longer exists is taken over. Resolves to the function that releases it.
 */
export async function takeLock(rootDir: string): Promise<() => Promise<void>> {
  const stateDir = join(rootDir, STATE_DIR);
  const createdStateDir = (await mkdir(stateDir, { recursive: true })) !== undefined;
  const lockPath = join(rootDir, LOCK);
  const release = async (): Promise<void> => {
    await rm(lockPath, { force: true });
    if (createdStateDir) await rmdir(stateDir).catch(() => undefined); // only if nothing else was left there
  };
  for (;;) {
    try {
      const handle = await open(lockPath, "wx");
      const started = processStartTime(process.pid);
      await handle.writeFile(started === undefined ? `${process.pid}\n` : `${process.pid} ${started}\n`);
      await handle.close();
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const [pidText = "", started] = (await readFile(lockPath, "utf8").catch(() => "")).trim().split(/\s+/);
    const holder = Number.parseInt(pidText, 10);
    if (!Number.isInteger(holder) || holder <= 0) {
      throw new RefusedError(LOCK, "held by another run (no pid in it); remove it if no llm-migrate run is going on");
    }
    if (isAlive(holder) && !pidReused(holder, started)) throw new RefusedError(LOCK, `another llm-migrate run (pid ${holder}) is working on this folder`);
    await rm(lockPath, { force: true });
  }
}

/**
 * The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined
 * where there is no /proc. With the pid it names one process: after a reboot or in a new
 * container the same pid soon belongs to someone else.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** A live process holds the pid, but not the one that took the lock: it started at another time. */
function pidReused(pid: number, lockedStart: string | undefined): boolean {
  if (lockedStart === undefined) return false;
  const now = processStartTime(pid);
  return now !== undefined && now !== lockedStart;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
