import { typescript } from "../languages/typescript/ts-morph.js";
import type { ts } from "ts-morph";

/**
 * Edits `dependencies` in package.json as text: new entries are inserted as lines laid out like
 * their neighbours (indentation, `": "`, sorted position when the list is sorted), a range to
 * raise is replaced in place, and every other byte of the file stays as it was. Re-serialising
 * the JSON would re-lay-out the whole file (arrays on one line, key order, spacing) for one line.
 */
export interface DependencyEdits {
  /** Added when the name is not in `dependencies` (a devDependency is not installed in production). */
  add: Record<string, string>;
  /** Replaces the range of a dependency that is there. */
  raise?: Record<string, string>;
}

interface Edit {
  at: number;
  end: number;
  text: string;
}

const SECTIONS_THAT_PROVIDE = ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"];

/** The dependency ranges the manifest declares, across the sections that install a package. */
export function declaredDependencies(text: string): Record<string, string> {
  const root = rootObject(text);
  const found: Record<string, string> = {};
  for (const section of SECTIONS_THAT_PROVIDE) {
    const object = objectProperty(root, section);
    for (const entry of object ? entries(object) : []) found[entry.name] ??= entry.value;
  }
  return found;
}

/** The edited text, or undefined when there is nothing to change. Throws on text that is not JSON. */
export function editDependencies(text: string, wanted: DependencyEdits): string | undefined {
  const root = rootObject(text);
  const dependencies = objectProperty(root, "dependencies");
  const declared = new Set(entries(dependencies).map((e) => e.name));
  const missing = Object.entries(wanted.add).filter(([name]) => !declared.has(name));
  const edits: Edit[] = [];
  for (const [name, range] of Object.entries(wanted.raise ?? {})) {
    for (const section of SECTIONS_THAT_PROVIDE) {
      const entry = entries(objectProperty(root, section)).find((e) => e.name === name);
      if (entry && entry.value !== range) edits.push({ at: entry.node.initializer.getStart(), end: entry.node.initializer.end, text: JSON.stringify(range) });
    }
  }
  if (missing.length > 0) edits.push(...(dependencies ? insertInto(text, dependencies, missing) : addSection(text, root, missing)));
  if (edits.length === 0) return undefined;
  let out = text;
  for (const edit of edits.sort((a, b) => b.at - a.at)) out = out.slice(0, edit.at) + edit.text + out.slice(edit.end);
  return out;
}

function rootObject(text: string): ts.ObjectLiteralExpression {
  // Parent pointers set, so that node.getStart() can skip leading trivia.
  const file = typescript.createSourceFile("package.json", text, typescript.ScriptTarget.JSON, true, typescript.ScriptKind.JSON);
  const diagnostics = (file as unknown as { parseDiagnostics: ts.Diagnostic[] }).parseDiagnostics;
  if (diagnostics.length > 0) throw new Error(typescript.flattenDiagnosticMessageText(diagnostics[0]!.messageText, " "));
  const statement = file.statements[0];
  const expression = statement && typescript.isExpressionStatement(statement) ? statement.expression : undefined;
  if (!expression || !typescript.isObjectLiteralExpression(expression)) throw new Error("the top level is not an object");
  return expression;
}

type Entry = { name: string; value: string; node: ts.PropertyAssignment };

function entries(object: ts.ObjectLiteralExpression | undefined): Entry[] {
  const out: Entry[] = [];
  for (const property of object?.properties ?? []) {
    if (!typescript.isPropertyAssignment(property) || !typescript.isStringLiteral(property.name)) continue;
    const value = typescript.isStringLiteral(property.initializer) ? property.initializer.text : "";
    out.push({ name: property.name.text, value, node: property });
  }
  return out;
}

function objectProperty(object: ts.ObjectLiteralExpression, name: string): ts.ObjectLiteralExpression | undefined {
  const property = entries(object).find((e) => e.name === name)?.node;
  return property && typescript.isObjectLiteralExpression(property.initializer) ? property.initializer : undefined;
}

/** Indentation of the line `pos` is on. */
function indentAt(text: string, pos: number): string {
  const lineStart = text.lastIndexOf("\n", pos - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

function eolOf(text: string): string {
  return text.includes("\r\n") ? "\r\n" : "\n";
}

/** The file's indentation unit: that of its first indented line. */
function indentUnit(text: string): string {
  return /\n([ \t]+)\S/.exec(text)?.[1] ?? "  ";
}

function insertInto(text: string, object: ts.ObjectLiteralExpression, missing: [string, string][]): Edit[] {
  const existing = entries(object);
  const first = existing[0];
  const eol = eolOf(text);
  if (!first) {
    // `"dependencies": {}`: open it up, one entry a line, one level deeper than its key.
    const outer = indentAt(text, object.getStart());
    const inner = outer + indentUnit(text);
    const lines = missing.map(([name, range]) => `${inner}${JSON.stringify(name)}: ${JSON.stringify(range)}`);
    return [{ at: object.getStart(), end: object.end, text: `{${eol}${lines.join("," + eol)}${eol}${outer}}` }];
  }
  const indent = indentAt(text, first.node.getStart());
  const colon = text.slice(first.node.name.end, first.node.initializer.getStart());
  const oneLine = !text.slice(object.getStart(), object.end).includes("\n");
  const separator = oneLine ? ", " : "," + eol + indent;
  const line = ([name, range]: [string, string]) => `${JSON.stringify(name)}${colon}${JSON.stringify(range)}`;
  const names = existing.map((e) => e.name);
  const sorted = names.every((name, i) => i === 0 || names[i - 1]! <= name);
  const edits: Edit[] = [];
  for (const dependency of [...missing].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const before = sorted ? existing.find((e) => e.name > dependency[0]) : undefined;
    if (before) edits.push({ at: before.node.getStart(), end: before.node.getStart(), text: line(dependency) + separator });
    else edits.push({ at: existing.at(-1)!.node.end, end: existing.at(-1)!.node.end, text: separator + line(dependency) });
  }
  // Several inserted at one spot: apply them in name order (edits apply from the end).
  return edits.map((edit, i) => ({ ...edit, order: i })).sort((a, b) => b.at - a.at || b.order - a.order);
}

function addSection(text: string, root: ts.ObjectLiteralExpression, missing: [string, string][]): Edit[] {
  const eol = eolOf(text);
  const last = root.properties.at(-1);
  const unit = indentUnit(text);
  const indent = last ? indentAt(text, last.getStart()) : unit;
  const lines = [...missing].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, range]) => `${indent}${unit}${JSON.stringify(name)}: ${JSON.stringify(range)}`);
  const section = `"dependencies": {${eol}${lines.join("," + eol)}${eol}${indent}}`;
  if (last) return [{ at: last.end, end: last.end, text: `,${eol}${indent}${section}` }];
  const close = root.end - 1;
  return [{ at: close, end: close, text: `${eol}${indent}${section}${eol}` }];
}
