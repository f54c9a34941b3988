import { Node, SyntaxKind } from "./ts-morph.js";
import type { ClassDeclaration, NewExpression, SourceFile, VariableDeclaration } from "ts-morph";
import type { SharedClient } from "./client.js";
import { isFunction } from "./functions.js";

/* Where a `new X()` ends up: the variable, export, decoration or class property that holds it. */

/** The variable a `new X()` ends up in: `const c = new X()`, `c = new X()`, `c ??= new X()`. */
export function owningVariable(construction: NewExpression): VariableDeclaration | undefined {
  let node: Node = construction;
  let parent = node.getParent();
  while (parent && (Node.isParenthesizedExpression(parent) || Node.isAsExpression(parent) || Node.isSatisfiesExpression(parent))) {
    node = parent;
    parent = node.getParent();
  }
  if (Node.isVariableDeclaration(parent) && parent.getInitializer() === node) return parent;
  if (Node.isBinaryExpression(parent) && parent.getRight() === node) {
    const operator = parent.getOperatorToken().getKind();
    const assigns = [SyntaxKind.EqualsToken, SyntaxKind.QuestionQuestionEqualsToken, SyntaxKind.BarBarEqualsToken];
    const left = parent.getLeft();
    if (assigns.includes(operator) && Node.isIdentifier(left)) {
      const declaration = left.getSymbol()?.getDeclarations()[0];
      return Node.isVariableDeclaration(declaration) ? declaration : undefined;
    }
  }
  return undefined;
}

/**
 * A client exported with no variable: `export default new OpenAI()`, `module.exports = new OpenAI()`,
 * `exports.openai = new OpenAI()`, `module.exports = { openai: new OpenAI() }`.
 */
export function anonymousExport(construction: NewExpression): Pick<SharedClient, "name" | "declaration" | "exportNames"> | undefined {
  const parent = construction.getParent();
  const name = construction.getSourceFile().getBaseNameWithoutExtension().replace(/\W+(\w)/g, (_, c: string) => c.toUpperCase());
  if (Node.isExportAssignment(parent)) return { name, declaration: parent, exportNames: [parent.isExportEquals() ? "=" : "default"] };
  const property = Node.isPropertyAssignment(parent) && parent.getInitializer() === construction ? parent : undefined;
  const assignment = property ? property.getParent()?.getParent() : parent;
  const exportsTo = Node.isBinaryExpression(assignment) && isModuleLevelAssignment(assignment) ? assignment.getLeft().getText().replace(/\s/g, "") : undefined;
  if (!exportsTo || !Node.isBinaryExpression(assignment)) return undefined;
  if (property && exportsTo === "module.exports") return { name: property.getName(), declaration: assignment, exportNames: [property.getName()] };
  if (property || assignment.getRight() !== construction) return undefined;
  if (exportsTo === "module.exports") return { name, declaration: assignment, exportNames: ["="] };
  const member = /^(?:module\.)?exports\.(\w+)$/.exec(exportsTo)?.[1];
  return member ? { name: member, declaration: assignment, exportNames: [member] } : undefined;
}

export function isModuleLevelAssignment(assignment: Node): boolean {
  return (
    Node.isBinaryExpression(assignment) &&
    assignment.getOperatorToken().getKind() === SyntaxKind.EqualsToken &&
    Node.isSourceFile(assignment.getParent()?.getParent())
  );
}

/** `fastify.decorate("openai", new OpenAI())`: the server object holds it under that name. */
export function decoration(construction: NewExpression): Pick<SharedClient, "name" | "declaration" | "decoratedAs" | "exportNames"> | undefined {
  const call = construction.getParent();
  if (!Node.isCallExpression(call) || call.getArguments()[1] !== construction) return undefined;
  const callee = call.getExpression();
  const [name] = call.getArguments();
  if (!Node.isPropertyAccessExpression(callee) || callee.getName() !== "decorate" || !Node.isStringLiteral(name)) return undefined;
  return { name: name.getLiteralText(), declaration: call, decoratedAs: name.getLiteralText(), exportNames: [] };
}

/** `private openai = new OpenAI()` or `this.openai = new OpenAI()` in a constructor. */
export function classProperty(construction: NewExpression): Pick<SharedClient, "name" | "declaration" | "ownerClass"> | undefined {
  const parent = construction.getParent();
  const ownerClass = construction.getFirstAncestorByKind(SyntaxKind.ClassDeclaration);
  if (!ownerClass) return undefined;
  if (Node.isPropertyDeclaration(parent) && parent.getInitializer() === construction && !parent.isStatic()) {
    return { name: parent.getName(), declaration: parent, ownerClass };
  }
  if (
    Node.isBinaryExpression(parent) &&
    parent.getRight() === construction &&
    construction.getFirstAncestor(Node.isConstructorDeclaration) &&
    /^this\.\w+$/.test(parent.getLeft().getText())
  ) {
    return { name: parent.getLeft().getText().slice("this.".length), declaration: parent, ownerClass };
  }
  return undefined;
}

export function constructedPerRequest(cls: ClassDeclaration, files: readonly SourceFile[]): boolean {
  const name = cls.getName();
  return files.some((file) =>
    file
      .getDescendantsOfKind(SyntaxKind.NewExpression)
      .some((n) => n.getExpression().getText() === name && n.getFirstAncestor(isFunction) !== undefined),
  );
}

export function isModuleLevel(declaration: VariableDeclaration): boolean {
  return Node.isSourceFile(declaration.getVariableStatement()?.getParent());
}

export function insideClassMember(node: Node): boolean {
  return node.getFirstAncestor((a) => Node.isPropertyDeclaration(a) || Node.isConstructorDeclaration(a)) !== undefined;
}

/** Module-level functions whose body returns the client (lazy getters). */
export function findGetters(declaration: VariableDeclaration): Node[] {
  const name = declaration.getName();
  const file = declaration.getSourceFile();
  const functions: Node[] = [
    ...file.getFunctions(),
    ...file
      .getVariableDeclarations()
      .filter((v) => Node.isArrowFunction(v.getInitializer()) || Node.isFunctionExpression(v.getInitializer())),
  ];
  return functions.filter((fn) =>
    fn.getDescendantsOfKind(SyntaxKind.ReturnStatement).some((ret) => {
      const expression = ret.getExpression();
      if (!expression) return false;
      const inner = skipWrappers(expression);
      const returned = Node.isBinaryExpression(inner) ? inner.getLeft() : inner;
      return Node.isIdentifier(returned) && returned.getText() === name;
    }) ||
    (Node.isVariableDeclaration(fn) &&
      Node.isArrowFunction(fn.getInitializer()) &&
      /^\(\)\s*=>\s*\(?\s*(\w+)\s*(\?\?=|\|\|=)/.exec(fn.getInitializerOrThrow().getText())?.[1] === name),
  );
}


/**
 * A function that hands out a client each time it is called: a module-level function or arrow
 * (`function makeClient() { return new OpenAI() }`, `const client = () => new OpenAI()`), or a
 * class method, also one that returns the variable it built it in (`getClient(kind) { … client =
 * new OpenAI(…); this.clients.set(kind, client); return client }`).
 */
export function returningFunction(construction: NewExpression, owner?: VariableDeclaration): Node | undefined {
  const parent = construction.getParent();
  const fn = Node.isReturnStatement(parent) || (owner && returnsVariable(owner)) ? construction.getFirstAncestor(isFunction) : Node.isArrowFunction(parent) ? parent : undefined;
  if (!fn) return undefined;
  if (Node.isFunctionDeclaration(fn)) return Node.isSourceFile(fn.getParent()) ? fn : undefined;
  if (Node.isMethodDeclaration(fn)) return Node.isClassDeclaration(fn.getParent()) ? fn : undefined;
  const holder = fn.getParent();
  return Node.isVariableDeclaration(holder) && isModuleLevel(holder) ? holder : undefined;
}

/** `return client` in the function that declares `client`. */
function returnsVariable(owner: VariableDeclaration): boolean {
  const fn = owner.getFirstAncestor(isFunction);
  if (!fn) return false;
  return fn.getDescendantsOfKind(SyntaxKind.ReturnStatement).some((statement) => {
    const returned = statement.getExpression();
    if (statement.getFirstAncestor(isFunction) !== fn || !returned || !Node.isIdentifier(skipWrappers(returned))) return false;
    return skipWrappers(returned).getSymbol()?.getDeclarations().includes(owner) ?? false;
  });
}

/**
 * A Nest provider's factory: `{ provide: OpenAI, useFactory: (config) => new OpenAI(…), inject:
 * […] }`. The container calls it once and hands the client to every constructor that asks for the
 * token (by type, or with `@Inject(token)`). A request-scoped provider is made per request instead.
 */
export function nestProvider(construction: NewExpression): Pick<SharedClient, "name" | "declaration" | "injectedAs"> | undefined {
  const fn = construction.getFirstAncestor(isFunction);
  const parent = construction.getParent();
  const returned = Node.isArrowFunction(parent) ? parent === fn : Node.isReturnStatement(parent) && parent.getFirstAncestor(isFunction) === fn;
  if (!fn || !returned) return undefined;
  const provider = providerOfFactory(fn);
  if (!Node.isObjectLiteralExpression(provider) || requestScoped(provider)) return undefined;
  const provide = provider.getProperty("provide");
  const token = Node.isPropertyAssignment(provide) ? provide.getInitializer()?.getText() : undefined;
  return token ? { name: token.replace(/^["'`]|["'`]$/g, ""), declaration: construction, injectedAs: token } : undefined;
}

/** `scope: Scope.REQUEST`, or `inject: [REQUEST]`: the factory runs for each request. */
export function requestScoped(provider: Node): boolean {
  if (!Node.isObjectLiteralExpression(provider)) return false;
  const scope = provider.getProperty("scope");
  const inject = provider.getProperty("inject");
  return [scope, inject].some((p) => Node.isPropertyAssignment(p) && /\bREQUEST\b/.test(p.getInitializer()?.getText() ?? ""));
}

/** The provider object literal whose `useFactory` a function is, if it is one. */
export function providerOfFactory(fn: Node): Node | undefined {
  const property = Node.isMethodDeclaration(fn) ? fn : fn.getParent();
  if (!(Node.isPropertyAssignment(property) || Node.isMethodDeclaration(property)) || property.getName() !== "useFactory") return undefined;
  const provider = property.getParent();
  return Node.isObjectLiteralExpression(provider) ? provider : undefined;
}

/** The expression inside parentheses, `!`, `as` and `satisfies`. */
export function skipWrappers(node: Node): Node {
  let current = node;
  while (Node.isParenthesizedExpression(current) || Node.isNonNullExpression(current) || Node.isAsExpression(current) || Node.isSatisfiesExpression(current)) {
    current = current.getExpression();
  }
  return current;
}
