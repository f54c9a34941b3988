import { Node, SyntaxKind } from "../../src/languages/typescript/ts-morph.js";
import type { Identifier } from "ts-morph";

const DEPTH = 3;

export const FUNCTION_KINDS = new Set([
  SyntaxKind.ArrowFunction,
  SyntaxKind.FunctionExpression,
  SyntaxKind.FunctionDeclaration,
  SyntaxKind.MethodDeclaration,
  SyntaxKind.Constructor,
  SyntaxKind.GetAccessor,
  SyntaxKind.SetAccessor,
]);

export function enclosingFunction(node: Node): Node | undefined {
  return node.getFirstAncestor((a) => FUNCTION_KINDS.has(a.getKind()) || Node.isPropertyDeclaration(a));
}

/**
 * Every function from which one of `calls` runs: the functions around each call, and the
 * functions around the calls of those (by name, `summarize(…)` or `service.run(…)`), a few calls
 * deep. A route handler in this set serves an LLM call; one outside it does not.
 */
export function functionsReaching(calls: readonly Node[]): Set<Node> {
  const reached = new Set<Node>();
  let frontier: readonly Node[] = calls;
  for (let depth = 0; depth <= DEPTH && frontier.length; depth++) {
    const next: Node[] = [];
    for (const node of frontier) {
      for (let fn = enclosingFunction(node); fn && !reached.has(fn); fn = enclosingFunction(fn)) {
        reached.add(fn);
        next.push(...callersOf(fn));
      }
    }
    frontier = next;
  }
  return reached;
}

/** The calls of a named function or method: `summarize(…)`, `summarizer.run(…)`. */
export function callersOf(fn: Node): Node[] {
  const callers: Node[] = [];
  for (const reference of functionName(fn)?.findReferencesAsNodes() ?? []) {
    const callee = Node.isPropertyAccessExpression(reference.getParent()) ? reference.getParentOrThrow() : reference;
    const caller = callee.getParent();
    if (Node.isCallExpression(caller) && caller.getExpression() === callee) callers.push(caller);
  }
  return callers;
}

/** The name node of a function declaration, method, or arrow held in a variable. */
export function functionName(fn: Node | undefined): Identifier | undefined {
  if (Node.isFunctionDeclaration(fn) || Node.isMethodDeclaration(fn)) {
    const name = fn.getNameNode();
    return Node.isIdentifier(name) ? name : undefined;
  }
  const holder = fn?.getParent();
  if ((Node.isArrowFunction(fn) || Node.isFunctionExpression(fn)) && Node.isVariableDeclaration(holder)) {
    const name = holder.getNameNode();
    return Node.isIdentifier(name) ? name : undefined;
  }
  return undefined;
}
