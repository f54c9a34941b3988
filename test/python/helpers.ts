import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix, relative } from "node:path";
import type { MigrationOutcome } from "../../transforms/types.js";
import { startServer } from "../e2e/support.js";
import { DEFAULT_SETTINGS, migrateTree, PYTHON, pyCompile as compileFolder, REPO, ROOT, writeTree } from "../transforms/helpers.js";

// The fixture layout and its file helpers are the TypeScript fixtures' own.
export { DEFAULT_SETTINGS, expectedTree, listFiles, PYTHON, readTree, REPO, ROOT, writeOutputs } from "../transforms/helpers.js";

export const PYTHON_FIXTURES = join(REPO, "fixtures", "python");

export interface PythonRun {
  outcome: MigrationOutcome;
  /** Every .py file after the run, by relative path. */
  sources: Map<string, string>;
}

/**
 * Migrates a tree of Python modules (relative path → text) through the engine's own loading and
 * language choice (see migrateTree); the runtime folder is given under ROOT.
 */
export async function migratePythonTree(tree: Map<string, string>, only?: readonly string[], settings = DEFAULT_SETTINGS): Promise<PythonRun> {
  const { outcome, sources, runtimeDir } = await migrateTree(tree, only, settings);
  const python = new Map([...sources].filter(([path]) => path.endsWith(".py")));
  return { outcome: { ...outcome, runtimeDir: runtimeDir === undefined ? undefined : posix.join(ROOT, runtimeDir) }, sources: python };
}

/** Byte-compiles every module of the tree, plus the vendored runtime, with Debian's Python; returns its complaints. */
export function pyCompile(tree: Map<string, string>, runtimeDir: string | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), "llm-migrate-py-"));
  try {
    writeTree(dir, tree);
    return compileFolder(dir, runtimeDir === undefined ? undefined : relative(ROOT, runtimeDir)).join("\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A uvicorn server for `module:app` in `cwd` under Debian's Python, its LLM calls sent to `upstream`, with a pool of 3. */
export function startUvicorn(app: string, cwd: string, upstream: string, env: Record<string, string> = {}) {
  return startServer(["/bin/sh", "-c", `exec ${PYTHON} -m uvicorn ${app} --host 127.0.0.1 --port "$PORT"`], cwd, {
    OPENAI_BASE_URL: upstream,
    OPENAI_API_KEY: "sk-test-not-a-secret",
    PYTHONDONTWRITEBYTECODE: "1",
    LLM_POOL_SIZE: "3",
    ...env,
  }, "Uvicorn running");
}
