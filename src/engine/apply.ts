import { constants } from "node:fs";
import { access, lstat, mkdir, readFile, rm, rmdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { toRelative } from "./discover.js";
import { BadInputError, RefusedError, WriteFailedError } from "./errors.js";
import { uncommittedChanges } from "./git.js";
import { toolPackage } from "./package-root.js";
import type { MigrationPlan, PlannedChange } from "./plan.js";
import { BACKUP_DIR, MANIFEST, STATE_DIR, readManifest, takeLock, writeManifest, type Manifest } from "./state.js";
import { sha256 } from "./text.js";
import { isTempFile, removeLeftTempFiles, writeFileAtomically } from "./write-file.js";

export interface ApplyOptions {
  /** Write even when the git tree has uncommitted changes. */
  allowDirty?: boolean;
}

/**
 * Writes a plan all or nothing: checks every target first, backs up every file it changes and
 * writes the manifest, then writes each file atomically; if a write fails, undoes the ones done.
 */
export async function applyPlan(plan: MigrationPlan, options: ApplyOptions = {}): Promise<Manifest | undefined> {
  const { rootDir, changes } = plan;
  if (changes.length === 0) return undefined;
  if (!options.allowDirty) await refuseDirtyTree(rootDir);
  await checkWritable(rootDir, changes);
  const release = await takeLock(rootDir);
  try {
    if (await readManifest(rootDir)) {
      throw new RefusedError(MANIFEST, "a previous run can still be rolled back; run `llm-migrate rollback` first, or delete .llm-migrate/ to keep it");
    }
    await removeLeftTempFiles([join(rootDir, BACKUP_DIR), ...changes.map((change) => dirname(change.absPath))]);
    await checkUnchangedSincePlan(changes);
    const manifest: Manifest = {
      tool: "llm-migrate",
      version: toolPackage().version,
      createdAt: new Date().toISOString(),
      settings: plan.settings,
      files: changes.map((change) => ({
        path: change.path,
        action: change.action,
        sha256Before: change.before ? sha256(change.before) : null,
        sha256After: sha256(change.after),
        mode: change.mode,
      })),
      createdDirs: await foldersToCreate(rootDir, changes),
    };
    for (const change of changes) {
      if (!change.before) continue;
      const backup = join(rootDir, BACKUP_DIR, change.path);
      await mkdir(dirname(backup), { recursive: true });
      await writeFileAtomically(backup, change.before, change.mode);
    }
    await writeManifest(rootDir, manifest);
    await writeAll(rootDir, changes, manifest);
    return manifest;
  } finally {
    await release();
  }
}

async function refuseDirtyTree(rootDir: string): Promise<void> {
  // A killed run's temp files are ours, and are deleted once the lock is held.
  const dirty = (await uncommittedChanges(rootDir))?.filter((path) => !path.split("/").includes(STATE_DIR) && !isTempFile(path));
  if (dirty && dirty.length > 0) {
    const more = dirty.length > 1 ? ` and ${dirty.length - 1} more` : "";
    throw new RefusedError(".", `the git tree has uncommitted changes (${dirty[0]}${more}); commit or stash them, or pass --allow-dirty`);
  }
}

/**
 * Every file to change must be writable, and every folder to write in too (atomic writes rename
 * a temp file there). Besides access(), a file or folder without its owner's write bit counts as
 * read-only: the user protected it, even when running as root.
 */
async function checkWritable(rootDir: string, changes: readonly PlannedChange[]): Promise<void> {
  const readOnly = async (absPath: string): Promise<boolean> => {
    const info = await stat(absPath);
    if ((info.mode & 0o200) === 0) return true;
    return access(absPath, constants.W_OK).then(
      () => false,
      () => true,
    );
  };
  const folders = new Set<string>([rootDir]);
  for (const change of changes) {
    if (change.action === "modified" && (await readOnly(change.absPath))) throw new BadInputError(change.path, "is read-only; nothing was written");
    folders.add(await nearestExistingFolder(dirname(change.absPath)));
  }
  for (const folder of folders) {
    if (await readOnly(folder)) throw new BadInputError(toRelative(rootDir, folder) || ".", "folder is read-only; nothing was written");
  }
}

async function nearestExistingFolder(dir: string): Promise<string> {
  while (!(await lstat(dir).catch(() => undefined))) dir = dirname(dir);
  return dir;
}

async function checkUnchangedSincePlan(changes: readonly PlannedChange[]): Promise<void> {
  for (const change of changes) {
    const current = await readFile(change.absPath).catch(() => undefined);
    const same = change.before ? current?.equals(change.before) : current === undefined;
    if (!same) throw new RefusedError(change.path, "changed while llm-migrate was working; run it again");
  }
}

async function foldersToCreate(rootDir: string, changes: readonly PlannedChange[]): Promise<string[]> {
  const missing = new Set<string>();
  for (const change of changes) {
    for (let dir = dirname(change.absPath); !(await lstat(dir).catch(() => undefined)); dir = dirname(dir)) {
      missing.add(toRelative(rootDir, dir));
    }
  }
  return [...missing].sort((a, b) => a.split("/").length - b.split("/").length || (a < b ? -1 : 1));
}

async function writeAll(rootDir: string, changes: readonly PlannedChange[], manifest: Manifest): Promise<void> {
  const written: PlannedChange[] = [];
  for (const change of changes) {
    try {
      await mkdir(dirname(change.absPath), { recursive: true });
      await writeFileAtomically(change.absPath, change.after, change.mode);
      written.push(change);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      try {
        await undo(rootDir, written, manifest);
      } catch (undoError) {
        throw new WriteFailedError(
          change.path,
          `write failed (${reason}) and restoring the files written before it failed too (${(undoError as Error).message}); run \`llm-migrate rollback\``,
          { cause: error },
        );
      }
      throw new WriteFailedError(change.path, `write failed (${reason}); every file written before it was restored`, { cause: error });
    }
  }
}

/** Puts back what a failed run wrote, then drops its backups: there is nothing left to roll back. */
async function undo(rootDir: string, written: readonly PlannedChange[], manifest: Manifest): Promise<void> {
  for (const change of [...written].reverse()) {
    if (change.before) await writeFileAtomically(change.absPath, change.before, change.mode);
    else await rm(change.absPath, { force: true });
  }
  await removeEmptyFolders(rootDir, manifest.createdDirs);
  await rm(join(rootDir, BACKUP_DIR), { recursive: true, force: true });
  await rm(join(rootDir, MANIFEST), { force: true });
}

/** Removes the folders a run created, children first, when nothing else was put in them since. */
export async function removeEmptyFolders(rootDir: string, createdDirs: readonly string[]): Promise<void> {
  for (const dir of [...createdDirs].reverse()) {
    await rmdir(join(rootDir, dir)).catch(() => undefined);
  }
}
