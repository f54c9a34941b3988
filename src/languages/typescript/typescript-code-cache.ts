import { readFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Script } from "node:vm";

/**
 * TypeScript's compiler (9 MB of JavaScript, inside ts-morph) loaded with V8's code cache: the
 * bytecode of its functions, saved at build time after a scan (scripts/typescript-code-cache.js),
 * so that a run neither compiles the file nor each function the scan calls. Node 20 has no
 * built-in compile cache for CommonJS (module.enableCompileCache is Node 22). V8 checks the cache
 * against the source and its own version and flags, and compiles as usual when it does not fit.
 */

const require = createRequire(import.meta.url);

/** The file ts-morph's common package requires as `./typescript`. */
function typeScriptFile(): string {
  const common = createRequire(require.resolve("ts-morph")).resolve("@ts-morph/common");
  return join(dirname(common), "typescript.js");
}

let loaded: Script | undefined;

/**
 * Puts TypeScript in the CommonJS module cache, compiled with `cachedData` when given, before
 * ts-morph requires it; does nothing when it is loaded already.
 */
export function preloadTypeScript(cachedData: Buffer | undefined): void {
  const filename = typeScriptFile();
  const cache = (Module as unknown as { _cache: Record<string, Module> })._cache;
  if (cache[filename]) return;
  const script = new Script(Module.wrap(readFileSync(filename, "utf8")), { filename, ...(cachedData ? { cachedData } : {}) });
  const module = new Module(filename);
  module.filename = filename;
  module.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(filename));
  cache[filename] = module;
  try {
    script.runInThisContext().call(module.exports, module.exports, createRequire(filename), module, filename, dirname(filename));
  } catch (error) {
    delete cache[filename];
    throw error;
  }
  module.loaded = true;
  loaded = script;
}

/** The cache file's bytes, or undefined when there is none (a build without one) or it cannot be read. */
export function readCodeCache(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Whether V8 refused the code cache TypeScript was loaded with (undefined: not loaded with one). */
export function codeCacheRejected(): boolean | undefined {
  return loaded?.cachedDataRejected;
}

/** V8's code cache of the TypeScript loaded by preloadTypeScript, with every function run since. */
export function typeScriptCodeCache(): Buffer | undefined {
  return loaded?.createCachedData();
}
