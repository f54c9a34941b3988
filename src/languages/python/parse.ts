import { createRequire } from "node:module";
import { Language, Parser, type Node, type Tree } from "web-tree-sitter";
import { applyToText, EditPlan } from "../edit-plan.js";

export type { Node as PythonNode } from "web-tree-sitter";

let parser: Parser | undefined;

/** Loads tree-sitter and the Python grammar (WebAssembly, shipped by the npm packages) once per process. */
export async function loadPythonParser(): Promise<void> {
  if (parser) return;
  await Parser.init();
  const require = createRequire(import.meta.url);
  const python = await Language.load(require.resolve("tree-sitter-python/tree-sitter-python.wasm"));
  const ready = new Parser();
  ready.setLanguage(python);
  parser = ready;
}

function parse(text: string): Tree {
  if (!parser) throw new Error("loadPythonParser() must be awaited before parsing Python");
  const tree = parser.parse(text);
  if (!tree) throw new Error("tree-sitter gave no tree");
  return tree;
}

/**
 * One Python module of the target, held as text. Transforms edit it by exact text splices
 * (`replaceText`), so comments and formatting survive; the tree is reparsed on demand.
 * Node offsets are string indices (web-tree-sitter counts UTF-16 code units, as JavaScript does).
 */
export class PythonSourceFile {
  private cachedTree: Tree | undefined;

  constructor(
    private readonly filePath: string,
    private text: string,
  ) {}

  getFilePath(): string {
    return this.filePath;
  }

  getFullText(): string {
    return this.text;
  }

  /** Python files are never removed by a migration; here so the engine treats them like ts-morph files. */
  wasForgotten(): boolean {
    return false;
  }

  get root(): Node {
    this.cachedTree ??= parse(this.text);
    return this.cachedTree.rootNode;
  }

  replaceText(text: string): void {
    if (text === this.text) return;
    this.text = text;
    this.cachedTree?.delete();
    this.cachedTree = undefined;
  }

  /** 1-based line of a string index. */
  lineAt(index: number): number {
    let line = 1;
    for (let i = this.text.indexOf("\n"); i !== -1 && i < index; i = this.text.indexOf("\n", i + 1)) line++;
    return line;
  }

  /** The first syntax error as "line:column: message", or undefined when the module parses. */
  syntaxError(): string | undefined {
    const bad = firstBadNode(this.root);
    if (!bad) return undefined;
    const { row, column } = bad.startPosition;
    const what = bad.isMissing ? `missing ${bad.type}` : `unexpected ${JSON.stringify(bad.text.split("\n")[0]!.slice(0, 30))}`;
    return `${row + 1}:${column + 1}: ${what}`;
  }
}

function firstBadNode(node: Node): Node | undefined {
  if (node.isError || node.isMissing) return node;
  if (!node.hasError) return undefined;
  for (const child of node.children) {
    const bad = child && firstBadNode(child);
    if (bad) return bad;
  }
  return undefined;
}

/** Every descendant of the given types, in source order. */
export function descendants(node: Node, ...types: string[]): Node[] {
  return node.descendantsOfType(types).filter((n): n is Node => n !== null);
}

export function children(node: Node): Node[] {
  return node.namedChildren.filter((n): n is Node => n !== null);
}

export function ancestors(node: Node): Node[] {
  const list: Node[] = [];
  for (let at = node.parent; at; at = at.parent) list.push(at);
  return list;
}

/** The innermost `def`, `async def` or `lambda` around a node. */
export function enclosingFunction(node: Node): Node | undefined {
  return ancestors(node).find((n) => n.type === "function_definition" || n.type === "lambda");
}

export function isAsyncFunction(fn: Node): boolean {
  return fn.type === "function_definition" && fn.children.some((c) => c?.type === "async");
}

/** The decorators written above a function or class (`@app.post("/chat")` → its expression node). */
export function decoratorsOf(definition: Node): Node[] {
  const parent = definition.parent;
  if (parent?.type !== "decorated_definition") return [];
  return children(parent)
    .filter((c) => c.type === "decorator")
    .map((d) => children(d)[0]!)
    .filter(Boolean);
}

/** The statement that holds a node: the outermost node that is a direct child of a block or the module. */
export function enclosingStatement(node: Node): Node {
  let at = node;
  while (at.parent && at.parent.type !== "block" && at.parent.type !== "module") at = at.parent;
  return at;
}

/** Leading whitespace of the line a string index is on. */
export function indentationAt(text: string, index: number): string {
  const lineStart = text.lastIndexOf("\n", index - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

export function lineStartOf(text: string, index: number): number {
  return text.lastIndexOf("\n", index - 1) + 1;
}

/** The names a function takes, with their annotations as written. */
export function parametersOf(fn: Node): { name: string; annotation?: string; default?: string }[] {
  const params = fn.childForFieldName("parameters");
  if (!params) return [];
  return children(params).flatMap((p) => {
    if (p.type === "identifier") return [{ name: p.text }];
    const name = p.childForFieldName("name") ?? children(p).find((c) => c.type === "identifier");
    if (!name || name.type !== "identifier") return [];
    return [{ name: name.text, annotation: p.childForFieldName("type")?.text, default: p.childForFieldName("value")?.text }];
  });
}

/** The edit plan (../edit-plan.ts) for Python modules: their text, edited back to front. */
export class TextEdits extends EditPlan<PythonSourceFile> {
  constructor() {
    super((file, edits) => file.replaceText(applyToText(file.getFullText(), edits)));
  }
}
