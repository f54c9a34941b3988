import { mkdir, open, readFile, rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import writeFileAtomic from "write-file-atomic";
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
  await writeFileAtomic(join(rootDir, MANIFEST), JSON.stringify(manifest, null, 2) + "\n", { fsync: true });
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
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number.parseInt(await readFile(lockPath, "utf8").catch(() => ""), 10);
    if (!Number.isInteger(holder) || holder <= 0) {
      throw new RefusedError(LOCK, "held by another run (no pid in it); remove it if no llm-migrate run is going on");
    }
    if (isAlive(holder)) throw new RefusedError(LOCK, `another llm-migrate run (pid ${holder}) is working on this folder`);
    await rm(lockPath, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
