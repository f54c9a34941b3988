import { posix } from "node:path";
import type { ReadSource } from "./read.js";

/** What a relative specifier may name, in the order Node and TypeScript try them. */
const RESOLVED_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"];

/** The file of the tree a relative specifier names, found by path alone (nothing is parsed). */
export function resolveImport(from: string, specifier: string, exists: (path: string) => boolean): string | undefined {
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  if (exists(base)) return base;
  // Tried one by one: most specifiers name a file that exists, and there are a dozen per module.
  const withoutJsExtension = base.replace(/\.(c|m)?jsx?$/, "");
  for (const ext of RESOLVED_EXTENSIONS) if (exists(withoutJsExtension + ext)) return withoutJsExtension + ext;
  for (const ext of RESOLVED_EXTENSIONS) if (exists(`${base}/index${ext}`)) return `${base}/index${ext}`;
  return undefined;
}

/**
 * The files worth parsing, chosen from their text alone: those that mention a relevant word
 * (and the entry file the user named), every module that imports one of those, however many
 * hops away (the client reaches its call sites and routes that way, through re-exports and
 * service modules that never name the SDK), and the modules any of these import directly whose
 * text could hold an LLM call (`mayCallLlm`: a wrapper class handed the client). The rest of the
 * tree is never parsed: most directly imported modules are ordinary helpers, and they were most
 * of the parsed bytes.
 */
export function filesToParse(sources: readonly ReadSource[], mayCallLlm: (text: string) => boolean, entry?: string): Set<string> {
  const byPath = new Map(sources.map((source) => [source.path, source]));
  const exists = (path: string) => byPath.has(path);
  const importsOf = new Map<string, string[]>();
  const importers = new Map<string, string[]>();
  for (const source of sources) {
    const targets = new Set<string>();
    for (const specifier of source.imports) {
      const target = resolveImport(source.path, specifier, exists);
      if (target !== undefined && target !== source.path) targets.add(target);
    }
    importsOf.set(source.path, [...targets]);
    for (const target of targets) {
      const list = importers.get(target) ?? [];
      list.push(source.path);
      importers.set(target, list);
    }
  }

  const chosen = new Set(sources.filter((source) => source.mentions || source.path === entry).map((source) => source.path));
  for (const queue = [...chosen]; queue.length > 0; ) {
    for (const importer of importers.get(queue.pop()!) ?? []) {
      if (chosen.has(importer)) continue;
      chosen.add(importer);
      queue.push(importer);
    }
  }
  // Bytes dropped for the memory budget are not read again here: such a module is parsed, as before.
  const mayCall = (path: string): boolean => {
    const bytes = byPath.get(path)?.bytes;
    return bytes === undefined || mayCallLlm(bytes.toString("utf8"));
  };
  for (const path of [...chosen]) for (const imported of importsOf.get(path) ?? []) if (!chosen.has(imported) && mayCall(imported)) chosen.add(imported);
  return chosen;
}
