// No false edits: `llm-migrate apply` over large real trees that hold no shared LLM client — the
// TypeScript compiler's lib, express, fastify, commander and the openai SDK itself (whose comments
// are full of `new OpenAI()` examples) — copied into a scratch git repository, must change nothing
// and exit 0. Prints how long each run took.
//
//   npm run build && npx tsx scripts/no-false-edits.ts          # the full trees
//
// test/safety/no-false-edits.test.ts runs a smaller slice of the same trees in CI.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const bin = join(repoRoot, "bin", "llm-migrate.js");

/** One real tree: a package folder, optionally only some of its paths. */
export interface RealTree {
  name: string;
  /** Absolute folder of the package. */
  from: string;
  /** Paths inside it to copy; the whole folder when absent. */
  only?: string[];
}

export interface NoFalseEditsResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Paths whose bytes or mode differ after the run, or that appeared or went: empty when nothing changed. */
  changes: string[];
  /** Source files llm-migrate could consider (by extension) and their bytes. */
  sourceFiles: number;
  sourceBytes: number;
  elapsedMs: number;
}

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", ...args], {
    cwd: dir,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** An installed package's folder (read from disk: some packages do not export their package.json). */
function packageDir(name: string): string | undefined {
  const dir = join(repoRoot, "node_modules", name);
  return existsSync(join(dir, "package.json")) ? dir : undefined;
}

/** The trees of the full run; fastify comes from the npm registry (`npm pack`) when it is not installed. */
export function fullTrees(scratch: string): RealTree[] {
  const trees: RealTree[] = [
    { name: "typescript-lib", from: join(packageDir("typescript")!, "lib") },
    { name: "express", from: packageDir("express")! },
    { name: "commander", from: packageDir("commander")! },
    { name: "openai", from: packageDir("openai")! },
  ];
  const fastify = packageDir("fastify") ?? packFromRegistry("fastify@5", scratch);
  if (fastify) trees.push({ name: "fastify", from: fastify });
  else console.log("fastify: not installed and `npm pack fastify@5` failed; left out");
  return trees;
}

function packFromRegistry(spec: string, scratch: string): string | undefined {
  const into = join(scratch, "packed");
  mkdirSync(into, { recursive: true });
  const pack = spawnSync("npm", ["pack", spec, "--silent", "--pack-destination", into], { encoding: "utf8" });
  const tarball = pack.stdout.trim().split("\n").at(-1);
  if (pack.status !== 0 || !tarball) return undefined;
  execFileSync("tar", ["-xzf", join(into, tarball), "-C", into]);
  return join(into, "package");
}

/** A slice small enough for CI: some of each tree, the openai SDK's client and chat/responses resources. */
export function sliceTrees(): RealTree[] {
  const openai = packageDir("openai")!;
  return [
    { name: "typescript-lib", from: join(packageDir("typescript")!, "lib"), only: ["tsc.js", "watchGuard.js", "_typingsInstaller.js", "lib.es5.d.ts"] },
    { name: "express", from: packageDir("express")! },
    { name: "commander", from: packageDir("commander")!, only: ["index.js", "lib"] },
    {
      name: "openai",
      from: openai,
      only: ["README.md", "index.js", "index.mjs", "client.js", "client.mjs", "src/client.ts", "src/azure.ts", "src/realtime", "src/resources/chat", "src/resources/responses"].filter(
        (path) => existsSync(join(openai, path)),
      ),
    },
  ];
}

/** Every entry below dir but .git: path → mode and content hash. */
function digestTree(dir: string): Map<string, string> {
  const digest = new Map<string, string>();
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      const info = lstatSync(path);
      const key = relative(dir, path);
      if (entry.isDirectory()) {
        if (entry.name === ".git") continue;
        digest.set(key + "/", `dir ${info.mode}`);
        walk(path);
      } else {
        const content = entry.isSymbolicLink() ? readlinkSync(path) : readFileSync(path);
        digest.set(key, `${info.mode} ${createHash("sha256").update(content).digest("hex")}`);
      }
    }
  };
  walk(dir);
  return digest;
}

function isSource(path: string): boolean {
  return /\.(ts|tsx|mts|cts|js|mjs|cjs|jsx)$/.test(path) && !/\.d\.[cm]?ts$/.test(path);
}

/** Copies the trees into `dir` (a fresh git repository, everything committed). */
export function scratchRepository(dir: string, trees: readonly RealTree[]): void {
  for (const tree of trees) {
    for (const path of tree.only ?? ["."]) {
      cpSync(join(tree.from, path), join(dir, tree.name, path), { recursive: true });
    }
  }
  git(dir, "init", "-q");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "real trees");
}

/** `llm-migrate apply <dir>` (plus `extraArgs`), timed, and what it changed. */
export function applyAndCompare(dir: string, extraArgs: string[] = []): NoFalseEditsResult {
  const before = digestTree(dir);
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, [bin, "apply", dir, ...extraArgs], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  const after = digestTree(dir);
  const changes = [...new Set([...before.keys(), ...after.keys()])].filter((path) => before.get(path) !== after.get(path)).sort();
  const sources = [...before.keys()].filter(isSource);
  return {
    status: run.status,
    stdout: run.stdout,
    stderr: run.stderr,
    changes,
    sourceFiles: sources.length,
    sourceBytes: sources.reduce((total, path) => total + statSync(join(dir, path)).size, 0),
    elapsedMs,
  };
}

export function describeRun(label: string, result: NoFalseEditsResult): string {
  const verdict =
    result.status === 0 && result.changes.length === 0
      ? "changed nothing, exit 0"
      : `FAILED: exit ${result.status}, changed: ${result.changes.join(", ") || "nothing"} ${result.stderr}`;
  const size = `${result.sourceFiles} source files, ${(result.sourceBytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${label}: ${size}: ${verdict} in ${(result.elapsedMs / 1000).toFixed(2)} s`;
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), "llm-migrate-no-false-edits-"));
  let failed = false;
  try {
    const trees = fullTrees(scratch);
    const each: Array<[string, RealTree[]]> = [...trees.map((tree): [string, RealTree[]] => [tree.name, [tree]]), ["all together", trees]];
    for (const [label, selection] of each) {
      const dir = join(scratch, label.replace(/\W+/g, "-"));
      scratchRepository(dir, selection);
      const inGit = applyAndCompare(dir);
      console.log(describeRun(`${label} (git repository)`, inGit));
      // The same tree outside git: discovery walks the folder instead of asking git.
      rmSync(join(dir, ".git"), { recursive: true, force: true });
      const plain = applyAndCompare(dir, ["--allow-dirty"]);
      console.log(describeRun(`${label} (plain folder)`, plain));
      for (const result of [inGit, plain]) failed ||= result.status !== 0 || result.changes.length > 0;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(failed ? "no false edits: FAILED" : "no false edits: passed");
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
