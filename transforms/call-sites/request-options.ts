import { Node } from "../../src/languages/typescript/ts-morph.js";
import type { CallExpression, ObjectLiteralExpression } from "ts-morph";
import type { OptionsForm } from "../../src/languages/sdks.js";
import { indentationAt, isTypeScriptFile } from "../../src/languages/typescript/source-style.js";

interface TextEdit {
  at: number;
  end: number;
  text: string;
}

/**
 * The SDK call's text with the runtime's request options passed the way its SDK takes them (the
 * SDK table's `options` form): as a whole argument (`create(params, options)`), or as named
 * fields of one (`generateText({ ..., abortSignal: options.signal })`,
 * `generateContent({ ..., config: { abortSignal: options.signal } })`). A client held in a
 * nullable `let` gets a `!`: the narrowing at the call site does not reach into the callback.
 */
export function withRequestOptions(call: CallExpression, options: string, form: OptionsForm, replaceWritten = false): string {
  const start = call.getStart();
  const text = call.getText();
  const edits: TextEdit[] = form.fields === "none" ? [] : optionEdits(call, options, form, replaceWritten);
  const root = rootIdentifier(call.getExpression());
  if (root && isTypeScriptFile(call.getSourceFile()) && declaredNullable(root)) {
    edits.push({ at: root.getEnd(), end: root.getEnd(), text: "!" });
  }
  edits.sort((a, b) => b.at - a.at);
  return edits.reduce((acc, edit) => acc.slice(0, edit.at - start) + edit.text + acc.slice(edit.end - start), text);
}

function optionEdits(call: CallExpression, options: string, form: Exclude<OptionsForm, { fields: "none" }>, replaceWritten: boolean): TextEdit[] {
  const args = call.getArguments();
  const index = form.argument;
  const target = args[index];
  if (!target) {
    // Missing arguments before it become `undefined`, as the SDK's own defaults.
    const padding = Array.from({ length: index - args.length }, () => "undefined");
    const value = form.fields === "whole" ? options : `{ ${wrapWithin(fieldsText(form.fields, options), form.within)} }`;
    const list = [...padding, value].join(", ");
    const last = args[args.length - 1];
    if (last) return [{ at: last.getEnd(), end: last.getEnd(), text: `, ${list}` }];
    const close = call.getEnd() - 1;
    return [{ at: close, end: close, text: list }];
  }
  if (form.fields === "whole") return [{ at: target.getStart(), end: target.getEnd(), text: replaceWritten ? options : `{ ...${target.getText()}, ...${options} }` }];
  const fields = fieldsText(form.fields, options);
  if (Node.isObjectLiteralExpression(target)) {
    if (!form.within) {
      const clash = Object.keys(form.fields).some((name) => target.getProperty(name));
      return clash ? [spreadInto(target, fields)] : [insertInto(target, fields)];
    }
    const holder = target.getProperty(form.within);
    if (!holder) return [insertInto(target, [`${form.within}: { ${fields.join(", ")} }`])];
    if (Node.isPropertyAssignment(holder)) {
      const value = holder.getInitializerOrThrow();
      const clash = Node.isObjectLiteralExpression(value) && Object.keys(form.fields).some((name) => value.getProperty(name));
      if (Node.isObjectLiteralExpression(value) && !clash) return [insertInto(value, fields)];
      return [spreadInto(value, fields)];
    }
    if (Node.isShorthandPropertyAssignment(holder)) {
      return [{ at: holder.getStart(), end: holder.getEnd(), text: `${form.within}: { ...${form.within}, ${fields.join(", ")} }` }];
    }
  }
  const whole = target.getText();
  const value = form.within ? `{ ...${whole}, ${form.within}: { ...${whole}.${form.within}, ${fields.join(", ")} } }` : `{ ...${whole}, ${fields.join(", ")} }`;
  return [{ at: target.getStart(), end: target.getEnd(), text: value }];
}

/** `{ abortSignal: "$.signal" }` → ["abortSignal: options.signal"]. */
function fieldsText(fields: Readonly<Record<string, string>>, options: string): string[] {
  return Object.entries(fields).map(([name, value]) => `${name}: ${value.replace(/\$/g, options)}`);
}

function wrapWithin(fields: string[], within: string | undefined): string {
  return within ? `${within}: { ${fields.join(", ")} }` : fields.join(", ");
}

/** Adds fields at the end of an object literal, one per line when it spans lines. */
function insertInto(literal: ObjectLiteralExpression, fields: string[]): TextEdit {
  const properties = literal.getProperties();
  const last = properties[properties.length - 1];
  if (!last) {
    const inside = literal.getStart() + 1;
    return { at: inside, end: literal.getEnd() - 1, text: ` ${fields.join(", ")} ` };
  }
  const multiline = literal.getStartLineNumber() !== literal.getEndLineNumber();
  if (!multiline) return { at: last.getEnd(), end: last.getEnd(), text: `, ${fields.join(", ")}` };
  const indent = indentationAt(literal.getSourceFile(), last.getStart());
  return { at: last.getEnd(), end: last.getEnd(), text: fields.map((field) => `,\n${indent}${field}`).join("") };
}

/** `{ ...value, fields }`: when the fields are there already, the runtime's win. */
function spreadInto(value: Node, fields: string[]): TextEdit {
  return { at: value.getStart(), end: value.getEnd(), text: `{ ...${value.getText()}, ${fields.join(", ")} }` };
}

function rootIdentifier(callee: Node): Node | undefined {
  let node = callee;
  while (Node.isPropertyAccessExpression(node)) node = node.getExpression();
  return Node.isIdentifier(node) ? node : undefined;
}

function declaredNullable(identifier: Node): boolean {
  const declaration = identifier.getSymbol()?.getDeclarations()[0];
  if (!Node.isVariableDeclaration(declaration) || declaration.getVariableStatement()?.getDeclarationKind() === "const") return false;
  // The annotation first: with the SDK's types out of reach, `OpenAI | null` would read as `any`.
  const annotation = declaration.getTypeNode();
  if (Node.isUnionTypeNode(annotation)) {
    return annotation.getTypeNodes().some((t) => /^(null|undefined)$/.test(t.getText()));
  }
  return declaration.getType().isNullable();
}
