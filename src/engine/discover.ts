import { lstat, readFile, readdir, realpath } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import pLimit from "p-limit";
import { git, mayBeInGitWorkTree } from "./git.js";

export const SOURCE_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs", ".jsx"] as const;

/** Files larger than this are skipped unread: generated bundles, not a server's own code. */
export const MAX_SOURCE_BYTES = 1024 * 1024;

/** lstat calls at a time while listing. */
const PARALLEL_STATS = 32;

/** Folders that never hold the server's own source. */
export const SKIPPED_FOLDERS = new Set(["node_modules", ".git", "dist", "build", "out", "coverage", ".next", ".llm-migrate", "__pycache__", ".venv", "venv", ".tox", "site-packages"]);

export interface SkippedSymlink {
  path: string;
  outOfTree: boolean;
}

/** A regular source file of the tree, with what its listing told: enough to skip it unread. */
export interface SourceEntry {
  /** Relative, forward slashes. */
  path: string;
  /** Size and mode, when the listing stat-ed the file; a walk's regular files get them from their read. */
  size?: number;
  mode?: number;
}

export interface DiscoveredFiles {
  /** Source files (sorted by path) that are regular files inside the tree. */
  files: SourceEntry[];
  /** Symlinked source files: never read through nor written through. */
  symlinks: SkippedSymlink[];
}

/** Python modules: read too, and migrated when they make a web app the Python migration knows. */
export function isPythonFile(path: string): boolean {
  return path.endsWith(".py");
}

export function isSourceFile(path: string): boolean {
  if (/\.d\.[cm]?ts$/.test(path)) return false;
  return SOURCE_EXTENSIONS.some((ext) => path.endsWith(ext));
}

function inSkippedFolder(relPath: string): boolean {
  return relPath.split("/").slice(0, -1).some((part) => SKIPPED_FOLDERS.has(part));
}

/**
 * The candidate source files of the target: what git would track when the folder is in a work
 * tree (so the user's own ignore rules apply), otherwise a walk of the folder.
 */
export async function discoverSourceFiles(root: string): Promise<DiscoveredFiles> {
  const tracked = mayBeInGitWorkTree(root) ? await listWithGit(root) : undefined;
  // A walk already knows its regular files from the directory entries: no stat for each of them.
  const walked = tracked ? undefined : await walk(root);
  const listed = tracked ?? [...walked!.keys()];
  // A virtualenv under any name (`env/`, `py311/`), committed or not, is known by its pyvenv.cfg.
  const venvs = listed.filter((p) => p.endsWith("/pyvenv.cfg")).map((p) => p.slice(0, -"pyvenv.cfg".length));
  const inVenv = (p: string) => venvs.some((dir) => p.startsWith(dir));
  const paths = listed.filter((p) => (isSourceFile(p) || isPythonFile(p)) && !inSkippedFolder(p) && !inVenv(p));
  const realRoot = await realpath(root);
  const limit = pLimit(PARALLEL_STATS);
  const stats = await Promise.all(
    [...new Set(paths)].sort().map((path) =>
      limit(async () => {
        if (walked?.get(path) === "file") return { path, regular: true };
        const info = await lstat(join(root, path)).catch(() => undefined);
        if (!info?.isSymbolicLink()) return { path, info };
        const target = await realpath(join(root, path)).catch(() => undefined);
        return { path, info, outOfTree: !target || !(target + sep).startsWith(realRoot + sep) };
      }),
    ),
  );
  const files: SourceEntry[] = [];
  const symlinks: SkippedSymlink[] = [];
  for (const stat of stats) {
    if ("regular" in stat) files.push({ path: stat.path });
    // No info: deleted in the work tree but still in the index.
    else if (stat.outOfTree !== undefined) symlinks.push({ path: stat.path, outOfTree: stat.outOfTree });
    else if (stat.info?.isFile()) files.push({ path: stat.path, size: stat.info.size, mode: stat.info.mode & 0o7777 });
  }
  return { files, symlinks };
}

/** What git tracks or would track under root; undefined outside a work tree (ls-files fails there). */
async function listWithGit(root: string): Promise<string[] | undefined> {
  const out = await git(root, ["ls-files", "-z", "--cached", "--others", "--exclude-standard"]);
  return out?.split("\0").filter(Boolean);
}

/** The walk's files, each a regular file or a symlink as its directory entry says. */
async function walk(root: string): Promise<Map<string, "file" | "symlink">> {
  const rules = await rootGitignore(root);
  const found = new Map<string, "file" | "symlink">();
  const visit = async (relDir: string): Promise<void> => {
    const entries = await readdir(join(root, relDir), { withFileTypes: true });
    for (const entry of entries) {
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (SKIPPED_FOLDERS.has(entry.name) || rules.ignores(rel + "/")) continue;
        await visit(rel);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && !rules.ignores(rel)) {
        found.set(rel, entry.isFile() ? "file" : "symlink");
      }
    }
  };
  await visit("");
  return found;
}

async function rootGitignore(root: string): Promise<Ignore> {
  const text = await readFile(join(root, ".gitignore"), "utf8").catch(() => "");
  return ignore().add(text);
}

/** Relative path with forward slashes, as the report and the manifest write it. */
export function toRelative(root: string, absPath: string): string {
  return relative(root, absPath).split(sep).join("/");
}
