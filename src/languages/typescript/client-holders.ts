import { Node, SyntaxKind, type ClassDeclaration, type NewExpression, type SourceFile, type VariableDeclaration } from "ts-morph";
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
 * A function that returns a new client each time it is called, at module level:
 * `function makeClient() { return new OpenAI() }`, `const client = () => new OpenAI()`.
 */
export function returningFunction(construction: NewExpression): Node | undefined {
  const parent = construction.getParent();
  const fn = Node.isReturnStatement(parent) ? construction.getFirstAncestor(isFunction) : Node.isArrowFunction(parent) ? parent : undefined;
  if (!fn) return undefined;
  if (Node.isFunctionDeclaration(fn)) return Node.isSourceFile(fn.getParent()) ? fn : undefined;
  const holder = fn.getParent();
  return Node.isVariableDeclaration(holder) && isModuleLevel(holder) ? holder : undefined;
}

/** The expression inside parentheses, `!`, `as` and `satisfies`. */
export function skipWrappers(node: Node): Node {
  let current = node;
  while (Node.isParenthesizedExpression(current) || Node.isNonNullExpression(current) || Node.isAsExpression(current) || Node.isSatisfiesExpression(current)) {
    current = current.getExpression();
  }
  return current;
}
