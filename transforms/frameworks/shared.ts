// Helpers the framework adapters share: module detection, statements, handler functions.
import { Node, SyntaxKind } from "../../src/languages/typescript/ts-morph.js";
import type { CallExpression, Expression, SourceFile, Statement } from "ts-morph";
import { requiredModule } from "../../src/languages/typescript/source-style.js";
import type { RouteHandler, RouteRegistration } from "./adapter.js";

export const HTTP_METHODS = new Set(["get", "post", "put", "patch", "delete", "del", "all", "options", "head"]);
export const METRICS_PATH = "/metrics/llm";

/** Whether the file imports or requires one of `modules`. */
export function importsModule(file: SourceFile, modules: readonly string[]): boolean {
  if (file.getImportDeclarations().some((d) => modules.includes(d.getModuleSpecifierValue()))) return true;
  return file.getDescendantsOfKind(SyntaxKind.CallExpression).some((call) => modules.includes(requiredModule(call) ?? ""));
}

/** Whether any file already serves /metrics/llm (a path literal, a Nest `@Get("metrics/llm")`, a comparison). */
export function servesMetricsPath(files: readonly SourceFile[]): boolean {
  return files.some((file) =>
    file
      .getDescendantsOfKind(SyntaxKind.StringLiteral)
      .some((literal) => literal.getLiteralText().replace(/^\//, "") === METRICS_PATH.slice(1)),
  );
}

export function isInStatementList(statement: Node): boolean {
  const parent = statement.getParent();
  return Node.isSourceFile(parent) || Node.isBlock(parent) || Node.isCaseClause(parent) || Node.isModuleBlock(parent);
}

/** The statement in a statement list that holds `node`. */
export function statementOf(node: Node): Statement | undefined {
  if (Node.isStatement(node) && isInStatementList(node)) return node;
  return node.getFirstAncestor((a): a is Statement => Node.isStatement(a) && isInStatementList(a));
}

/** The function an argument is or names (through imports too). */
export function functionOf(argument: Node): Node | undefined {
  // Already wrapped by a migration: the handler is inside.
  if (Node.isCallExpression(argument) && argument.getExpression().getText() === "handleLlmErrors") {
    const [inner] = argument.getArguments();
    return inner ? functionOf(inner) : undefined;
  }
  if (Node.isArrowFunction(argument) || Node.isFunctionExpression(argument)) return argument;
  if (!Node.isIdentifier(argument)) return undefined;
  const symbol = argument.getSymbol();
  const target = symbol?.isAlias() ? symbol.getAliasedSymbol() : symbol;
  for (const declaration of target?.getDeclarations() ?? []) {
    if (Node.isFunctionDeclaration(declaration)) return declaration;
    if (Node.isVariableDeclaration(declaration)) {
      const initializer = declaration.getInitializer();
      if (Node.isArrowFunction(initializer) || Node.isFunctionExpression(initializer)) return initializer;
    }
  }
  return undefined;
}

/**
 * `asyncHandler(async (req, res) => …)`: a wrapper that hands the request on to the one function
 * it is given (catching its rejection for the framework). The handler is that function, and the
 * migration wraps it there, inside, where its errors are still its own.
 */
function passedThrough(argument: Node): Node | undefined {
  if (!Node.isCallExpression(argument) || argument.getExpression().getText() === "handleLlmErrors") return undefined;
  const args = argument.getArguments();
  const [only] = args;
  if (args.length !== 1 || !(Node.isArrowFunction(only) || Node.isFunctionExpression(only))) return undefined;
  return only.getParameters().length > 0 ? only : undefined;
}

export function handlersOf(args: readonly Node[]): RouteHandler[] {
  return args
    .map((written): RouteHandler | undefined => {
      const argument = passedThrough(written) ?? written;
      const fn = functionOf(argument);
      return fn ? { argument: argument as Expression, fn } : undefined;
    })
    .filter((h): h is RouteHandler => h !== undefined);
}

export function isPathLiteral(node: Node | undefined): boolean {
  return (Node.isStringLiteral(node) || Node.isNoSubstitutionTemplateLiteral(node)) && node.getLiteralText().startsWith("/");
}

/**
 * `receiver.get("/path", ...handlers)` and its kin on any receiver; the adapter decides whether
 * the receiver is one of its apps or routers.
 */
export function methodRoute(call: CallExpression, accepts: (receiver: Node) => boolean): RouteRegistration | undefined {
  const callee = call.getExpression();
  if (!Node.isPropertyAccessExpression(callee)) return undefined;
  const method = callee.getName();
  if (!HTTP_METHODS.has(method)) return undefined;
  const receiver = callee.getExpression();
  const [path, ...rest] = call.getArguments();
  if (!isPathLiteral(path) || !accepts(receiver)) return undefined;
  const handlers = handlersOf(rest);
  const statement = statementOf(call);
  if (!handlers.length || !statement) return undefined;
  return { call, receiver: receiver.getText(), receiverNode: receiver, method, statement, handlers };
}

/** The name of a handler's n-th parameter, when it is a plain identifier. */
export function parameterName(handler: Node, index: number): string | undefined {
  if (!Node.isFunctionLikeDeclaration(handler) && !Node.isArrowFunction(handler) && !Node.isFunctionExpression(handler)) return undefined;
  const name = handler.getParameters()[index]?.getNameNode();
  return Node.isIdentifier(name) ? name.getText() : undefined;
}

/** The first property access inside `handler` whose text matches `pattern`, as written. */
export function readInHandler(handler: Node, pattern: RegExp): string | undefined {
  return handler
    .getDescendantsOfKind(SyntaxKind.PropertyAccessExpression)
    .find((access) => pattern.test(access.getText().replace(/\s/g, "")))
    ?.getText();
}

/** The first statement `<receiver>.<method>(…)` in the file for which `matches` holds. */
export function firstCallStatement(
  file: SourceFile,
  receiver: string,
  matches: (method: string, call: CallExpression) => boolean,
): Statement | undefined {
  for (const call of file.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    const callee = call.getExpression();
    if (!Node.isPropertyAccessExpression(callee) || callee.getExpression().getText() !== receiver) continue;
    if (matches(callee.getName(), call)) return statementOf(call);
  }
  return undefined;
}

/** A variable in one of `files` whose initializer matches `test` (entry file first). */
export function findVariable(
  files: readonly SourceFile[],
  entryFile: SourceFile | undefined,
  test: (initializer: Node | undefined) => boolean,
) {
  const ordered = entryFile ? [entryFile, ...files.filter((f) => f !== entryFile)] : files;
  return ordered.flatMap((f) => f.getVariableDeclarations()).find((d) => test(d.getInitializer()));
}

/** `Name()` or `new Name()` where Name is one of `names` (the callee as written). */
export function constructs(node: Node | undefined, names: RegExp): boolean {
  if (!Node.isCallExpression(node) && !Node.isNewExpression(node)) return false;
  return names.test(node.getExpression().getText().replace(/\s/g, ""));
}

export function semicolon(semicolons: boolean): string {
  return semicolons ? ";" : "";
}

/** Every route a file registers, as `routeOf` reads each call expression in it. */
export function routesIn(file: SourceFile, routeOf: (call: CallExpression) => RouteRegistration | undefined): RouteRegistration[] {
  return file.getDescendantsOfKind(SyntaxKind.CallExpression).flatMap((call) => routeOf(call) ?? []);
}
