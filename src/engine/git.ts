import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/**
 * Runs git in `cwd` without a terminal: no prompts, no stdin, no index refresh written
 * (GIT_OPTIONAL_LOCKS=0), so reading the state of the user's tree never changes it.
 * Resolves to undefined when git is missing or the folder is not in a work tree.
 */
export function git(cwd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = execFile(
      "git",
      args,
      {
        cwd,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C" },
      },
      (error, stdout) => resolve(error ? undefined : stdout),
    );
    child.stdin?.end();
  });
}

/**
 * Whether git may find a work tree at `dir`: a `.git` (a folder, or a file in worktrees and
 * submodules) in it or a folder above, or GIT_DIR / GIT_WORK_TREE set. Asked before starting
 * git, so that a folder in no repository costs no process.
 */
export function mayBeInGitWorkTree(dir: string): boolean {
  if (process.env.GIT_DIR || process.env.GIT_WORK_TREE) return true;
  for (let at = resolve(dir); ; at = dirname(at)) {
    if (existsSync(join(at, ".git"))) return true;
    if (dirname(at) === at) return false;
  }
}

/**
 * Changed or untracked paths under `dir` (relative to the repository root), or undefined outside
 * a work tree (git status fails there, as it does inside a .git folder).
 */
export async function uncommittedChanges(dir: string): Promise<string[] | undefined> {
  if (!mayBeInGitWorkTree(dir)) return undefined;
  const out = await git(dir, ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--", "."]);
  if (out === undefined) return undefined;
  return out
    .split("\0")
    .filter((entry) => entry.length > 3)
    .map((entry) => entry.slice(3));
}
