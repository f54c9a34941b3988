import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { Project } from "ts-morph";
import { loadPythonParser, PythonSourceFile } from "../../src/languages/python/parse.js";
import { migratePythonProject } from "../../transforms/python/index.js";
import type { MigrationOutcome, MigrationSettings } from "../../transforms/types.js";

export const REPO = join(import.meta.dirname, "../..");
export const PYTHON_FIXTURES = join(REPO, "fixtures", "python");
/** Where the target lives for the in-memory run. */
export const ROOT = "/target";
export const DEFAULT_SETTINGS: MigrationSettings = { poolSize: 10, canaryPercent: 100 };
// Debian's interpreter sees python3-fastapi, python3-uvicorn and python3-httpx; a pyenv python3 on PATH may not.
export const PYTHON = "/usr/bin/python3";

export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split("\\").join("/"))
    .sort();
}

export function readTree(dir: string): Map<string, string> {
  return new Map(listFiles(dir).map((path) => [path, readFileSync(join(dir, path), "utf8")]));
}

/** The expected tree: input, with each file that has an output/ twin replaced by it. */
export function expectedTree(caseDir: string): Map<string, string> {
  const tree = readTree(join(caseDir, "input"));
  for (const [path, text] of readTree(join(caseDir, "output"))) tree.set(path, text);
  return tree;
}

export interface PythonRun {
  outcome: MigrationOutcome;
  /** Every .py file after the run, by relative path. */
  sources: Map<string, string>;
}

/** Migrates a tree of Python modules (relative path → text) as the engine would, without touching the disk. */
export async function migratePythonTree(tree: Map<string, string>, only?: readonly string[], settings = DEFAULT_SETTINGS): Promise<PythonRun> {
  await loadPythonParser();
  const pythonFiles = [...tree].filter(([path]) => path.endsWith(".py")).map(([path, text]) => new PythonSourceFile(`${ROOT}/${path}`, text));
  const project = new Project({ useInMemoryFileSystem: true });
  const outcome = migratePythonProject({ project, pythonFiles, rootDir: ROOT, settings, only });
  return { outcome, sources: new Map(pythonFiles.map((f) => [f.getFilePath().slice(ROOT.length + 1), f.getFullText()])) };
}

/** UPDATE_FIXTURES=1: writes each changed module to output/ and drops twins of unchanged ones. */
export function writeOutputs(caseDir: string, input: Map<string, string>, sources: Map<string, string>): void {
  for (const [path, text] of sources) {
    const target = join(caseDir, "output", path);
    if (input.get(path) === text) {
      rmSync(target, { force: true });
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
}

/** Byte-compiles every module of the tree, plus the vendored llm_api.py, with Debian's Python; returns its complaints. */
export function pyCompile(tree: Map<string, string>, runtimeDir: string | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), "llm-migrate-py-"));
  try {
    for (const [path, text] of tree) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    if (runtimeDir) copyFileSync(join(REPO, "runtime", "python", "llm_api.py"), join(dir, relative(ROOT, runtimeDir), "llm_api.py"));
    const modules = listFiles(dir).filter((p) => p.endsWith(".py"));
    execFileSync(PYTHON, ["-m", "py_compile", ...modules], { cwd: dir, stdio: "pipe", env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
    return "";
  } catch (error) {
    return String((error as { stderr?: Buffer }).stderr ?? error);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
