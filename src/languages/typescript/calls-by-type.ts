import { Node, SyntaxKind } from "./ts-morph.js";
import type { CallExpression, SourceFile } from "ts-morph";
import { sdkRows, type SdkCall, type SdkRow } from "../sdks.js";

const TS_ROWS = sdkRows("typescript");
/** Last names of every call the table lists: a cheap test before asking the type checker. */
const METHOD_NAMES = new Set(TS_ROWS.flatMap((row) => [...row.calls, ...(row.derived ?? []).flatMap((d) => d.calls)].map((c) => c.path.split(".").pop()!)));
const PACKAGE_IN_PATH = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/;

export interface TypedSdkCall {
  call: CallExpression;
  row: SdkRow;
  sdkCall: SdkCall;
}

/**
 * SDK calls found by asking the type checker what each method is: when the target's
 * dependencies are installed, `fastify.openai.chat.completions.create` resolves to the `create`
 * that the openai package declares, whatever holds the client (a decorator with module
 * augmentation, dependency injection, a factory parameter, a destructured or renamed binding).
 * Without the package's types nothing resolves, and the syntax-based search stands alone.
 */
export function findSdkCallsByType(files: readonly SourceFile[]): TypedSdkCall[] {
  const found: TypedSdkCall[] = [];
  for (const file of files) {
    for (const call of file.getDescendantsOfKind(SyntaxKind.CallExpression)) {
      const callee = call.getExpression();
      if (!Node.isPropertyAccessExpression(callee) || !METHOD_NAMES.has(callee.getName())) continue;
      const pkg = declaringPackage(callee.getNameNode());
      if (!pkg) continue;
      const matched = matchRow(pkg, propertyNames(callee));
      if (matched) found.push({ call, ...matched });
    }
  }
  return found;
}

function declaringPackage(name: Node): string | undefined {
  const symbol = name.getSymbol();
  const declaration = (symbol?.getAliasedSymbol() ?? symbol)?.getDeclarations()[0];
  if (!declaration) return undefined;
  return PACKAGE_IN_PATH.exec(declaration.getSourceFile().getFilePath())?.[1];
}

/** `a.chat.completions.create` → ["a", "chat", "completions", "create"], stopping at anything but a name. */
function propertyNames(callee: Node): string[] {
  const names: string[] = [];
  let node: Node = callee;
  while (Node.isPropertyAccessExpression(node)) {
    names.unshift(node.getName());
    node = node.getExpression();
  }
  return names;
}

/** The row and call whose path the callee ends with; the longest path wins (`chat.completions.create` over `completions.create`). */
function matchRow(pkg: string, names: string[]): { row: SdkRow; sdkCall: SdkCall } | undefined {
  let best: { row: SdkRow; sdkCall: SdkCall; length: number } | undefined;
  for (const row of TS_ROWS) {
    if (!row.packages.includes(pkg) || row.freeFunctions || row.generalHttp) continue;
    const candidates = [...row.calls, ...(row.derived ?? []).flatMap((d) => d.calls)];
    for (const sdkCall of candidates) {
      const path = sdkCall.path.split(".");
      const tail = names.slice(-path.length);
      if (tail.join(".") === sdkCall.path && (!best || path.length > best.length)) best = { row, sdkCall, length: path.length };
    }
  }
  return best && { row: best.row, sdkCall: best.sdkCall };
}
