/**
 * Python modules that apply creates (the vendored runtime) must be importable from the files that
 * apply made import them. A file that imports its own folder as a package (`from app.routers import
 * x` inside app/) runs with the project root on sys.path, so a bare `import llm_api` there only
 * resolves when llm_api.py sits at the root.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, posix } from "node:path";

const IMPORT = /^\s*(?:from\s+([A-Za-z_][\w.]*)\s+import\b|import\s+([A-Za-z_][\w.]*))/;

function importedModules(text: string): Map<string, number> {
  const modules = new Map<string, number>();
  text.split("\n").forEach((line, index) => {
    const match = IMPORT.exec(line);
    const name = match?.[1] ?? match?.[2];
    if (name && !modules.has(name)) modules.set(name, index + 1);
  });
  return modules;
}

/** `dir` is on sys.path when the file's own imports do not treat `dir` as a package. */
function folderOnPath(originalText: string, dir: string): boolean {
  const folder = basename(dir);
  return !new RegExp(`^\\s*(?:from|import)\\s+${folder.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.`, "m").test(originalText);
}

/**
 * For each changed Python file, the imports apply added of a module it also created that cannot
 * be found from where the file runs. `original` is the pristine checkout, `copy` the applied one.
 */
export function unresolvedCreatedImports(original: string, copy: string, changed: readonly string[], created: readonly string[]): string[] {
  const createdModules = new Set(created.filter((path) => path.endsWith(".py")).map((path) => posix.basename(path, ".py")));
  if (createdModules.size === 0) return [];
  const problems: string[] = [];
  for (const path of changed) {
    if (!path.endsWith(".py") || !existsSync(join(copy, path))) continue;
    const before = existsSync(join(original, path)) ? readFileSync(join(original, path), "utf8") : "";
    const known = importedModules(before);
    const dir = posix.dirname(path);
    const bases = [copy, ...(dir !== "." && folderOnPath(before, dir) ? [join(copy, dir)] : [])];
    for (const [name, line] of importedModules(readFileSync(join(copy, path), "utf8"))) {
      const top = name.split(".")[0]!;
      if (known.has(name) || !createdModules.has(top)) continue;
      const resolves = bases.some((base) => existsSync(join(base, ...name.split(".")) + ".py") || existsSync(join(base, ...name.split("."), "__init__.py")));
      if (!resolves) problems.push(`${path}:${line} imports ${name}, which is not importable from ${dirname(path) === "." ? "the project root" : "where " + path + " runs"}`);
    }
  }
  return problems;
}
