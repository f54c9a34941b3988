import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface ToolPackage {
  /** Folder of llm-migrate's own package.json (where runtime/ lives). */
  root: string;
  version: string;
  dependencies: Record<string, string>;
}

let cached: ToolPackage | undefined;

/**
 * Walks up from this module to the package.json named "llm-migrate", so it works both from
 * src/ (vitest, tsx) and from dist/src/ (the built CLI).
 */
export function toolPackage(): ToolPackage {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = readPackageJson(join(dir, "package.json"));
    if (manifest?.name === "llm-migrate") {
      cached = { root: dir, version: String(manifest.version), dependencies: manifest.dependencies ?? {} };
      return cached;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the llm-migrate package.json above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

function readPackageJson(path: string): { name?: string; version?: string; dependencies?: Record<string, string> } | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}
