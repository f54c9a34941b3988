// Scratch copies of the test servers, and ways to look at a whole tree before and after a run.
import { execFileSync } from "node:child_process";
import { cpSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** A copy of test/engine/fixtures/<name> in a scratch folder outside any git work tree. */
export function copyFixture(name: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), "llm-migrate-engine-")), name);
  cpSync(join(repoRoot, "test", "engine", "fixtures", name), dir, { recursive: true });
  return dir;
}

/** A copy of fixtures/servers/<name>/input (the transforms' example servers). */
export function copyServer(name: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), "llm-migrate-cli-")), name);
  cpSync(join(repoRoot, "fixtures", "servers", name, "input"), dir, { recursive: true });
  return dir;
}

export function removeScratch(dir: string): void {
  rmSync(join(dir, ".."), { recursive: true, force: true });
}

/** Every entry below dir: path → bytes (or link target) and mode. Nothing is skipped. */
export function snapshotTree(dir: string): Map<string, string> {
  const entries = new Map<string, string>();
  const walk = (at: string): void => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      const info = lstatSync(path);
      const key = relative(dir, path);
      const mode = (info.mode & 0o7777).toString(8);
      if (info.isSymbolicLink()) entries.set(key, `link ${readlinkSync(path)}`);
      else if (info.isDirectory()) {
        entries.set(key + "/", `dir ${mode}`);
        walk(path);
      } else entries.set(key, `file ${mode} ${readFileSync(path).toString("base64")}`);
    }
  };
  walk(dir);
  return entries;
}

export function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", ...args], {
    cwd: dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Makes dir a git repository with everything committed. */
export function commitAll(dir: string): void {
  git(dir, "init", "-q");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "legacy server");
}

export function read(dir: string, path: string): string {
  return readFileSync(join(dir, path), "utf8");
}
