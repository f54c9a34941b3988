import { existsSync } from "node:fs";
import { posix } from "node:path";
import { children, descendants, indentationAt, lineStartOf, type PythonNode, type PythonSourceFile } from "./parse.js";

const IMPORT_TYPES = new Set(["import_statement", "import_from_statement", "future_import_statement"]);
/** Standard-library modules that commonly open a FastAPI app's imports: enough to tell its first group apart. */
const STANDARD_LIBRARY = new Set(
  "__future__ abc asyncio collections contextlib dataclasses datetime enum functools hashlib io itertools json logging math os pathlib random re sys threading time typing uuid".split(" "),
);

/** The module's leading imports (after its docstring and comments), up to the first other statement. */
export function leadingImports(file: PythonSourceFile): PythonNode[] {
  const imports: PythonNode[] = [];
  for (const statement of children(file.root)) {
    if (IMPORT_TYPES.has(statement.type)) imports.push(statement);
    else if (statement.type === "comment" || isDocstring(statement)) continue;
    else break;
  }
  return imports;
}

function isDocstring(statement: PythonNode): boolean {
  return statement.type === "expression_statement" && children(statement)[0]?.type === "string";
}

/** `from <module> import …` at the top level of the file. */
export function fromImport(file: PythonSourceFile, module: string): PythonNode | undefined {
  return children(file.root).find((s) => s.type === "import_from_statement" && s.childForFieldName("module_name")?.text === module);
}

/** Names bound by a `from … import` statement (the alias when there is one). */
export function importedNames(statement: PythonNode): string[] {
  return children(statement)
    .slice(1)
    .map((n) => (n.type === "aliased_import" ? n.childForFieldName("alias")?.text ?? "" : n.text));
}

export function importsModule(file: PythonSourceFile, module: string): boolean {
  return children(file.root).some((s) => s.type === "import_statement" && children(s).some((n) => n.text === module));
}

/**
 * How `file` imports a module that sits next to it, in the app's own style: relative (`.llm_api`)
 * when it imports its siblings that way or lives in a package, dotted from the package root when it
 * spells siblings out (`app.llm_api`), else plain (`llm_api`).
 */
export function siblingModuleSpec(file: PythonSourceFile, module: string, siblings: readonly string[]): string {
  const dir = posix.dirname(file.getFilePath());
  const siblingNames = new Set(siblings.filter((p) => posix.dirname(p) === dir).map((p) => posix.basename(p, ".py")));
  for (const statement of children(file.root).filter((s) => s.type === "import_from_statement")) {
    const spec = statement.childForFieldName("module_name")?.text ?? "";
    if (/^\.\w/.test(spec) && siblingNames.has(spec.slice(1))) return `.${module}`;
    const parts = spec.split(".");
    if (parts.length > 1 && siblingNames.has(parts.at(-1)!)) return [...parts.slice(0, -1), module].join(".");
  }
  // The engine does not load an `__init__.py` that names nothing worth parsing, so the disk is asked too.
  return siblingNames.has("__init__") || existsSync(posix.join(dir, "__init__.py")) ? `.${module}` : module;
}

/**
 * How `file` imports a module vendored in `moduleDir` (absolute paths, below `rootDir`). A project
 * that runs from its root spells its own modules from there (`from app.services.llm import ...`
 * inside app/): then `app.llm_api`, wherever the file is. Otherwise, next to the file, its own
 * style (siblingModuleSpec); from a sub-package of a package, a relative import (`..llm_api`); from
 * below a folder that is no package (where the app runs from), plain (`llm_api`).
 */
export function vendoredModuleSpec(file: PythonSourceFile, module: string, moduleDir: string, rootDir: string, paths: readonly string[]): string {
  const root = rootDir.replace(/\/$/, "");
  const dottedDir = posix.relative(root, moduleDir).split("/").filter(Boolean);
  const top = dottedDir[0];
  const spelledFromRoot =
    top !== undefined &&
    descendants(file.root, "import_from_statement", "import_statement").some((statement) =>
      statement.text.replace(/^(from|import)\s+/, "").startsWith(`${top}.`),
    );
  if (spelledFromRoot) return [...dottedDir, module].join(".");
  const dir = posix.dirname(file.getFilePath());
  if (dir === moduleDir) return siblingModuleSpec(file, module, paths);
  const up = posix.relative(moduleDir, dir).split("/");
  // A relative import cannot climb out of the top package: only a folder that is a package is reached that way.
  const isPackage = paths.includes(posix.join(moduleDir, "__init__.py")) || existsSync(posix.join(moduleDir, "__init__.py"));
  if (!up.includes("..") && isPackage) return `${".".repeat(up.length + 1)}${module}`;
  return module;
}

export interface ImportEdit {
  at: number;
  text: string;
}

/**
 * The edit that makes `from module import names` (or `import module` when names is empty) hold,
 * or undefined when it already does. New statements go where the group they belong to is:
 * the standard library before the first import, anything else after its package's imports or last.
 */
export function importEdit(
  file: PythonSourceFile,
  module: string,
  names: readonly string[],
  standardLibrary: boolean,
  isLocal: (module: string) => boolean = () => false,
): ImportEdit | undefined {
  const text = file.getFullText();
  const leading = leadingImports(file);
  if (names.length === 0) {
    if (importsModule(file, module)) return undefined;
    return placeNew(text, leading, module, standardLibrary, isLocal, `import ${module}`);
  }
  const existing = fromImport(file, module);
  if (existing) {
    const have = new Set(importedNames(existing));
    const missing = names.filter((n) => !have.has(n));
    if (missing.length === 0) return undefined;
    const last = children(existing).at(-1)!;
    if (!existing.text.includes("\n")) return { at: last.endIndex, text: missing.map((n) => `, ${n}`).join("") };
    // A parenthesised import over several lines: one name a line, with a trailing comma.
    const indent = indentationAt(text, last.startIndex);
    const comma = text.slice(last.endIndex).trimStart().startsWith(",") ? "" : ",";
    const at = lineAfter(text, last.endIndex);
    return comma ? { at: last.endIndex, text: `,\n${missing.map((n) => `${indent}${n}`).join(",\n")},` } : { at, text: missing.map((n) => `${indent}${n},\n`).join("") };
  }
  return placeNew(text, leading, module, standardLibrary, isLocal, `from ${module} import ${[...names].join(", ")}`);
}

/** A new import statement in its group: a blank line apart from a group it does not belong to. */
function placeNew(
  text: string,
  leading: readonly PythonNode[],
  module: string,
  standardLibrary: boolean,
  isLocal: (module: string) => boolean,
  statement: string,
): ImportEdit {
  const code = leading.filter((s) => s.type !== "future_import_statement");
  const moduleOf = (s: PythonNode) => (s.type === "import_statement" ? children(s)[0]?.text : s.childForFieldName("module_name")?.text) ?? "";
  if (code.length === 0) {
    const after = leading.at(-1);
    return { at: after ? lineAfter(text, after.endIndex) : 0, text: `${statement}\n` };
  }
  if (standardLibrary) {
    const isStandard = (s: PythonNode) => STANDARD_LIBRARY.has(moduleOf(s).split(".")[0]!);
    const first = code[0]!;
    if (!isStandard(first)) return { at: lineStartOf(text, first.startIndex), text: `${statement}\n\n` };
    // In its alphabetical place in the group, so that two additions (asyncio, typing) keep isort's order.
    const end = code.findIndex((s) => !isStandard(s));
    const group = end === -1 ? code : code.slice(0, end);
    const next = group.find((s) => moduleOf(s) > module);
    if (next) return { at: lineStartOf(text, next.startIndex), text: `${statement}\n` };
    return { at: lineAfter(text, group.at(-1)!.endIndex), text: `${statement}\n` };
  }
  const top = module.replace(/^\.+/, "").split(".")[0];
  const sameTop = code.filter((s) => moduleOf(s).split(".")[0] === top);
  if (sameTop.length > 0) return { at: lineAfter(text, sameTop.at(-1)!.endIndex), text: `${statement}\n` };
  const last = code.at(-1)!;
  const apart = isLocal(module) && !isLocal(moduleOf(last));
  return { at: lineAfter(text, last.endIndex), text: `${apart ? "\n" : ""}${statement}\n` };
}

function lineAfter(text: string, index: number): number {
  const newline = text.indexOf("\n", index);
  return newline === -1 ? text.length : newline + 1;
}

/**
 * The project module a `from <spec> import …` in `from` names, among the loaded files: relative
 * (`.client`, `..config`) from the file's package, absolute (`ext.openai`) as a path ending in
 * `ext/openai.py` or `ext/openai/__init__.py`, the one nearest the importing file when several do.
 */
export function projectModuleFile(from: PythonSourceFile, spec: string, files: readonly PythonSourceFile[]): PythonSourceFile | undefined {
  const dots = /^\.*/.exec(spec)![0].length;
  const parts = spec.slice(dots).split(".").filter(Boolean);
  const candidates = (base: string) => [`${base}.py`, `${base}/__init__.py`];
  if (dots > 0) {
    let dir = posix.dirname(from.getFilePath());
    for (let up = 1; up < dots; up++) dir = posix.dirname(dir);
    const wanted = candidates(posix.join(dir, ...parts));
    return files.find((file) => wanted.includes(file.getFilePath()));
  }
  const suffixes = candidates(`/${parts.join("/")}`);
  const matching = files.filter((file) => suffixes.some((suffix) => file.getFilePath().endsWith(suffix)));
  const shared = (file: PythonSourceFile) => {
    const a = file.getFilePath();
    const b = from.getFilePath();
    let n = 0;
    while (n < a.length && a[n] === b[n]) n++;
    return n;
  };
  return matching.sort((a, b) => shared(b) - shared(a))[0];
}

/** The module-level statement that binds `name` in a file: `NAME = …`, `NAME: str = …`, `def NAME`, `class NAME`. */
export function moduleBinding(file: PythonSourceFile, name: string): PythonNode | undefined {
  let found: PythonNode | undefined;
  for (const statement of children(file.root)) {
    const node = statement.type === "decorated_definition" ? statement.childForFieldName("definition") : statement.type === "expression_statement" ? children(statement)[0] : statement;
    if (!node) continue;
    if (node.type === "assignment" && node.childForFieldName("left")?.text === name) found = node;
    else if ((node.type === "function_definition" || node.type === "class_definition") && node.childForFieldName("name")?.text === name) found = node;
  }
  return found;
}

/** Where a name used in `file` comes from: bound in the file itself, or imported by `from … import name [as alias]` from a project module. */
export function definitionOf(file: PythonSourceFile, name: string, files: readonly PythonSourceFile[]): { file: PythonSourceFile; node: PythonNode } | undefined {
  const local = moduleBinding(file, name);
  if (local) return { file, node: local };
  for (const statement of children(file.root).filter((s) => s.type === "import_from_statement")) {
    for (const imported of children(statement).slice(1)) {
      const original = imported.type === "aliased_import" ? imported.childForFieldName("name")?.text : imported.text;
      const bound = imported.type === "aliased_import" ? imported.childForFieldName("alias")?.text : imported.text;
      if (bound !== name || !original) continue;
      const module = projectModuleFile(file, statement.childForFieldName("module_name")?.text ?? "", files);
      const node = module && moduleBinding(module, original);
      return module && node ? { file: module, node } : undefined;
    }
  }
  return undefined;
}

/** Whether a module binds `name` with `from … import name` (the name as imported, before any `as`). */
export function importsName(file: PythonSourceFile, name: string): boolean {
  return originalNamesImported(file).has(name);
}

/** The names a module takes with `from … import` anywhere in it, as the other module spells them, found once per parsed file. */
const namesImported = new WeakMap<PythonSourceFile, Set<string>>();

function originalNamesImported(file: PythonSourceFile): Set<string> {
  let names = namesImported.get(file);
  if (names) return names;
  names = new Set();
  for (const statement of descendants(file.root, "import_from_statement")) {
    for (const imported of children(statement).slice(1)) {
      const name = imported.type === "aliased_import" ? imported.childForFieldName("name")?.text : imported.text;
      if (name !== undefined) names.add(name);
    }
  }
  namesImported.set(file, names);
  return names;
}
