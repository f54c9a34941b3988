import { lstat, readFile, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { removeEmptyFolders } from "./apply.js";
import { BadInputError, RefusedError } from "./errors.js";
import { BACKUP_DIR, MANIFEST, STATE_DIR, readManifest, takeLock, type Manifest } from "./state.js";
import { sha256 } from "./text.js";
import { removeLeftTempFiles, writeFileAtomically } from "./write-file.js";

/**
 * Undoes the last run: restores every modified file from its backup byte for byte, deletes the
 * files it created and then `.llm-migrate/`. Refuses, changing nothing, when a file was edited since.
 */
export async function rollbackMigration(dir: string): Promise<Manifest> {
  const rootDir = resolve(dir);
  const info = await stat(rootDir).catch(() => undefined);
  if (!info) throw new BadInputError(".", "no such file or directory");
  if (!info.isDirectory()) throw new BadInputError(".", "not a directory");
  if (!(await readManifest(rootDir))) throw new RefusedError(".", `nothing to roll back: no ${MANIFEST}`);
  const release = await takeLock(rootDir);
  try {
    const manifest = (await readManifest(rootDir))!;
    await removeLeftTempFiles(manifest.files.map((file) => dirname(join(rootDir, file.path))));
    const backups = new Map<string, Buffer>();
    for (const file of manifest.files) {
      const absPath = join(rootDir, file.path);
      const link = await lstat(absPath).catch(() => undefined);
      if (link?.isSymbolicLink()) throw new RefusedError(file.path, "was replaced by a symlink since the run; nothing was rolled back");
      const current = await readFile(absPath).catch(() => undefined);
      if (current === undefined && file.action === "created") continue;
      if (current === undefined) throw new RefusedError(file.path, "was deleted since the run; nothing was rolled back");
      // A run that was killed half-way never wrote this file: it is still the original.
      if (file.action === "modified" && sha256(current) === file.sha256Before) continue;
      if (sha256(current) !== file.sha256After) {
        throw new RefusedError(file.path, "changed since the run; nothing was rolled back (undo your edit, or restore by hand from .llm-migrate/backup)");
      }
      if (file.action === "modified") {
        const backup = await readFile(join(rootDir, BACKUP_DIR, file.path)).catch(() => undefined);
        if (!backup || sha256(backup) !== file.sha256Before) throw new BadInputError(`${BACKUP_DIR}/${file.path}`, "backup is missing or damaged; nothing was rolled back");
        backups.set(file.path, backup);
      }
    }
    for (const file of manifest.files) {
      const absPath = join(rootDir, file.path);
      const backup = backups.get(file.path);
      if (backup) await writeFileAtomically(absPath, backup, file.mode);
      else if (file.action === "created") await rm(absPath, { force: true });
    }
    await removeEmptyFolders(rootDir, manifest.createdDirs);
    await rm(join(rootDir, MANIFEST));
    await release();
    await rm(join(rootDir, STATE_DIR), { recursive: true, force: true });
    return manifest;
  } catch (error) {
    await release();
    throw error;
  }
}
