/**
 * `npm run corpus:checkout -- --mirrors <folder> --into <folder> [--only a,b] [--clone] [--install]`
 *
 * Writes each manifest entry's subfolder, at its commit, to <into>/<name>, from local git mirrors
 * (`<mirrors>/<owner>+<name>`, a bare repository or a clone). Works offline when the mirrors
 * exist; with --clone, a missing mirror is cloned from GitHub first (needs network). With
 * --install, TypeScript projects (a tsconfig.json and a package.json) get their dependencies from
 * the npm registry, without install scripts, so the corpus can type-check them before and after.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadManifest, type CorpusEntry } from "./manifest.js";

const ROOT = resolve(import.meta.dirname, "..", "..");

function gitDirs(mirrors: string, repo: string): string[] {
  const [owner, name] = repo.split("/") as [string, string];
  const bases = [join(mirrors, `${owner}+${name}`, "repo"), join(mirrors, `${owner}+${name}`), join(mirrors, owner, name), join(mirrors, `${owner}+${name}.git`)];
  return bases.flatMap((base) => [join(base, ".git"), base]).filter((dir) => existsSync(join(dir, "HEAD")));
}

function hasCommit(gitDir: string, commit: string): boolean {
  return spawnSync("git", ["--git-dir", gitDir, "cat-file", "-e", `${commit}^{commit}`], { stdio: "ignore" }).status === 0;
}

function findMirror(mirrors: string, entry: CorpusEntry, clone: boolean): string | undefined {
  const found = gitDirs(mirrors, entry.repo).find((dir) => hasCommit(dir, entry.commit));
  if (found || !clone) return found;
  const target = join(mirrors, entry.repo.replace("/", "+"), "repo");
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const result = spawnSync("git", ["clone", "--bare", "--quiet", `https://github.com/${entry.repo}.git`, target], { stdio: "inherit" });
  return result.status === 0 && hasCommit(target, entry.commit) ? target : undefined;
}

export function checkoutEntry(gitDir: string, entry: CorpusEntry, into: string): void {
  const dest = join(into, entry.name);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  const tree = entry.subdir ? `${entry.commit}:${entry.subdir}` : entry.commit;
  const archive = execFileSync("git", ["--git-dir", gitDir, "archive", "--format=tar", tree], { maxBuffer: 1 << 30 });
  execFileSync("tar", ["-x", "-C", dest], { input: archive });
}

/** Marks node_modules the corpus installed (not committed by the project), so runs link it instead of copying it. */
export const INSTALLED_MARK = ".corpus-installed";

function installDependencies(dir: string): boolean {
  if (!existsSync(join(dir, "tsconfig.json")) || !existsSync(join(dir, "package.json")) || existsSync(join(dir, "node_modules"))) return false;
  const quiet = ["--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"];
  const args = existsSync(join(dir, "package-lock.json")) ? ["ci", ...quiet] : ["install", "--package-lock=false", "--legacy-peer-deps", ...quiet];
  const result = spawnSync("npm", args, { cwd: dir, stdio: "inherit" });
  if (result.status !== 0) {
    rmSync(join(dir, "node_modules"), { recursive: true, force: true });
    return false;
  }
  writeFileSync(join(dir, "node_modules", INSTALLED_MARK), "installed by npm run corpus:checkout -- --install\n");
  return true;
}

function main(): number {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const mirrors = value("--mirrors");
  const into = value("--into");
  if (!mirrors || !into) {
    console.error("usage: npm run corpus:checkout -- --mirrors <folder of git mirrors> --into <folder> [--only a,b] [--clone] [--install] [--manifest file]");
    return 2;
  }
  const only = value("--only")?.split(",");
  const entries = loadManifest(resolve(value("--manifest") ?? join(ROOT, "corpus", "manifest.json"))).filter((entry) => !only || only.includes(entry.name));
  mkdirSync(resolve(into), { recursive: true });
  let missing = 0;
  for (const entry of entries) {
    const gitDir = findMirror(resolve(mirrors), entry, args.includes("--clone"));
    if (!gitDir) {
      console.log(`missing  ${entry.name}: no mirror of ${entry.repo} with ${entry.commit.slice(0, 12)} (fetch it, or run with --clone)`);
      missing++;
      continue;
    }
    try {
      checkoutEntry(gitDir, entry, resolve(into));
    } catch (error) {
      // A mirror can lack blobs (large files left out of a snapshot): say so, go on with the rest.
      console.log(`failed   ${entry.name}: git archive of ${entry.repo}@${entry.commit.slice(0, 12)}: ${String((error as Error).message).split("\n")[0]}`);
      missing++;
      continue;
    }
    const installed = args.includes("--install") && installDependencies(join(resolve(into), entry.name));
    console.log(`ok       ${entry.name}  ${entry.repo}@${entry.commit.slice(0, 12)}${entry.subdir ? " " + entry.subdir + "/" : ""}${installed ? " (dependencies installed)" : ""}`);
  }
  console.log(`checkouts: ${entries.length - missing} of ${entries.length} in ${resolve(into)}`);
  return missing === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) process.exitCode = main();
