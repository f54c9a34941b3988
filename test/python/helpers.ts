import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix, relative } from "node:path";
import type { MigrationOutcome } from "../../transforms/types.js";
import { ROOT } from "../paths.js";
import { DEFAULT_SETTINGS, migrateTree, pyCompile as compileFolder, writeTree } from "../transforms/helpers.js";

// The fixture layout and its file helpers are the TypeScript fixtures' own.
export { DEFAULT_SETTINGS, expectedTree, listFiles, readTree, writeOutputs } from "../transforms/helpers.js";
export { PYTHON, PYTHON_FIXTURES, REPO, ROOT } from "../paths.js";

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
