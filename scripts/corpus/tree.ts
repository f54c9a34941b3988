/**
 * Byte-level snapshots of a checkout, so the corpus can tell what `apply` changed, whether the
 * controls stayed as they were and whether `rollback` restored every byte.
 */
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/** Relative path (forward slashes) → content hash; symlinks hash their target. */
export type Snapshot = Map<string, string>;

export function snapshot(root: string): Snapshot {
  const files: Snapshot = new Map();
  const walk = (dir: string, prefix: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (prefix === "" && name === ".git") continue;
      const path = join(dir, name);
      const rel = prefix + name;
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) files.set(rel, "link:" + readlinkSync(path));
      else if (stat.isDirectory()) walk(path, rel + "/");
      else if (stat.isFile()) files.set(rel, createHash("sha256").update(readFileSync(path)).digest("hex"));
    }
  };
  walk(root, "");
  return files;
}

export interface TreeDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

export function diffSnapshots(before: Snapshot, after: Snapshot): TreeDiff {
  const diff: TreeDiff = { added: [], removed: [], changed: [] };
  for (const [path, hash] of before) {
    const now = after.get(path);
    if (now === undefined) diff.removed.push(path);
    else if (now !== hash) diff.changed.push(path);
  }
  for (const path of after.keys()) if (!before.has(path)) diff.added.push(path);
  return diff;
}

export function isEmptyDiff(diff: TreeDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0;
}

/** A control is a file, or a folder when it ends in "/". */
export function underControl(path: string, control: string): boolean {
  return control.endsWith("/") ? path.startsWith(control) : path === control;
}

/** Controls that apply touched, and controls the checkout does not have (a stale manifest). */
export function checkControls(controls: readonly string[], before: Snapshot, diff: TreeDiff): { touched: string[]; absent: string[] } {
  const touched = new Set<string>();
  const absent: string[] = [];
  for (const control of controls) {
    if (![...before.keys()].some((path) => underControl(path, control))) absent.push(control);
    for (const path of [...diff.added, ...diff.removed, ...diff.changed]) {
      if (underControl(path, control)) touched.add(path);
    }
  }
  return { touched: [...touched].sort(), absent };
}
