import fs from "node:fs";
import { open, readdir, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Atomic writes whose temp files say whose they are: `<name>.llm-migrate-<pid>.tmp` beside the
 * target. A run killed between writing a temp file and renaming it (SIGKILL, power loss) leaves
 * one behind; the next apply and rollback recognise it by name, ignore it in the dirty-tree check
 * and delete it, instead of the user finding `.env.example.3551872` in their tree.
 */
const TEMP_NAME = /^(.+)\.llm-migrate-\d+\.tmp$/;

export function isTempFile(path: string): boolean {
  return TEMP_NAME.test(basename(path));
}

export async function writeFileAtomically(absPath: string, bytes: Buffer, mode: number): Promise<void> {
  const temp = join(dirname(absPath), `${basename(absPath)}.llm-migrate-${process.pid}.tmp`);
  const handle = await open(temp, "w", mode);
  try {
    await handle.writeFile(bytes);
    await handle.chmod(mode); // open()'s mode is masked by the umask; the file keeps its own
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // fs.rename looked up at call time, callback form: the safety tests' fault preload hooks it.
    await new Promise<void>((resolve, reject) => fs.rename(temp, absPath, (error) => (error ? reject(error) : resolve())));
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Deletes the temp files an earlier, killed run left in these folders. Called with the lock held,
 * so no other run can be writing them.
 */
export async function removeLeftTempFiles(folders: Iterable<string>): Promise<string[]> {
  const removed: string[] = [];
  for (const folder of new Set(folders)) {
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const name of names.filter((n) => TEMP_NAME.test(n))) {
      await rm(join(folder, name), { force: true });
      removed.push(join(folder, name));
    }
  }
  return removed;
}
