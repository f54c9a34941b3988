import { lstat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { loadPythonParser, PythonSourceFile } from "../languages/python/parse.js";
import { migrateTypeScriptProject } from "../../transforms/index.js";
import { isPythonWebApp, migratePythonProject } from "../../transforms/python/index.js";
import type { MigrationOutcome } from "../../transforms/types.js";
import { toRelative } from "./discover.js";
import { BadInputError } from "./errors.js";
import type { EngineFindingCode } from "./findings.js";
import { editDependencies, type DependencyEdits } from "./package-json.js";

export { isPythonFile } from "./discover.js";

/**
 * The per-language seam: which files each language loads, and which migration runs. TypeScript
 * and JavaScript load into one ts-morph Project (load.ts); Python modules are held as text and
 * parsed with tree-sitter. A target whose Python modules make a web app the Python migration
 * knows is migrated as Python; any other as TypeScript/JavaScript.
 */
export async function loadPythonFile(absPath: string, text: string): Promise<PythonSourceFile> {
  await loadPythonParser();
  return new PythonSourceFile(absPath, text);
}

export function migrationFor(pythonFiles: readonly PythonSourceFile[]): typeof migrateTypeScriptProject {
  return pythonFiles.length > 0 && isPythonWebApp(pythonFiles) ? migratePythonProject : migrateTypeScriptProject;
}

/** What the engine tells the user about a vendored runtime's documentation, by flavour. */
export function runtimeDocumentation(outcome: MigrationOutcome, runtimeDir: string): string {
  return join(runtimeDir, outcome.runtimeFlavour === "python" ? "llm_api.py" : "README.md");
}

/** Where the vendored runtime's own dependencies are declared, for one runtime flavour. */
export interface DependencyFile {
  name: string;
  /** The file with the runtime's dependencies added; undefined when nothing is to add. */
  add(text: string, path: string): string | undefined;
  /** Said when the file is missing. */
  missing: EngineFindingCode;
  /** Said when the file was changed, if that needs saying. */
  added?: EngineFindingCode;
}

/** undefined for Python: what migrated code calls in llm_api.py needs the standard library alone. */
export function dependencyFileFor(
  flavour: MigrationOutcome["runtimeFlavour"],
  nodeDependencies: (text: string) => DependencyEdits,
): DependencyFile | undefined {
  if (flavour === "python") return undefined;
  return {
    name: "package.json",
    add(text, path) {
      try {
        return editDependencies(text, nodeDependencies(text));
      } catch (error) {
        throw new BadInputError(path, `not valid JSON: ${(error as Error).message}`);
      }
    },
    missing: "no-package-json",
  };
}

/** The file called `name` nearest to `fromDir`, walking up to the root. */
export async function nearestFile(rootDir: string, fromDir: string, name: string): Promise<string | undefined> {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    if (await lstat(join(dir, name)).catch(() => undefined)) return toRelative(rootDir, join(dir, name));
    if (dir === rootDir || dirname(dir) === dir) return undefined;
  }
}
