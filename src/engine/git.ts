import { execFile } from "node:child_process";

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

export async function isInGitWorkTree(dir: string): Promise<boolean> {
  return (await git(dir, ["rev-parse", "--is-inside-work-tree"]))?.trim() === "true";
}

/** Changed or untracked paths under `dir` (relative to the repository root), or undefined outside git. */
export async function uncommittedChanges(dir: string): Promise<string[] | undefined> {
  if (!(await isInGitWorkTree(dir))) return undefined;
  const out = await git(dir, ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--", "."]);
  if (out === undefined) return undefined;
  return out
    .split("\0")
    .filter((entry) => entry.length > 3)
    .map((entry) => entry.slice(3));
}
