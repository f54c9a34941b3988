import { Node, SyntaxKind } from "../../src/languages/typescript/ts-morph.js";
import type { CallExpression, Statement } from "ts-morph";

/**
 * The path prefix a router or plugin is mounted under, for the report's metrics path when the
 * route goes on one (no app in sight where routes are registered): Express/Koa
 * `app.use("/api", router)`, Koa `new Router({ prefix: "/api" })`, Fastify
 * `app.register(plugin, { prefix: "/api" })`, each followed up through the mounts above it.
 * "" when the receiver is not mounted under a prefix that can be read.
 */
export function mountPrefix(before: Statement, receiver: string, depth = 0): string {
  if (depth > 3) return "";
  const name = before.getDescendantsOfKind(SyntaxKind.Identifier).find((id) => id.getText() === receiver);
  const declaration = name?.getSymbol()?.getDeclarations()[0];
  if (Node.isParameterDeclaration(declaration)) {
    // A Fastify plugin: the function whose first parameter the instance is.
    const plugin = declaration.getParent();
    return registrations(plugin).map(prefixOfRegistration).find((p) => p !== undefined) ?? "";
  }
  if (Node.isVariableDeclaration(declaration)) {
    const options = declaration.getInitializer();
    const own = Node.isNewExpression(options) ? stringOption(options.getArguments()[0], "prefix") : undefined;
    const mounted = registrations(declaration).map(prefixOfRegistration).find((p) => p !== undefined) ?? "";
    return `${mounted}${own ?? ""}`;
  }
  return "";
}

/** The calls that take `node` (a function, or the variable holding a router) as an argument, directly or through its name. */
function registrations(node: Node | undefined): CallExpression[] {
  if (!node) return [];
  const direct = node.getParent();
  if (Node.isCallExpression(direct)) return [direct];
  const nameNode = Node.isVariableDeclaration(node) || Node.isFunctionDeclaration(node) ? node.getNameNode() : Node.isVariableDeclaration(direct) ? direct.getNameNode() : undefined;
  if (!Node.isIdentifier(nameNode)) return [];
  return nameNode
    .findReferencesAsNodes()
    .map((reference) => reference.getParent())
    .filter((parent): parent is CallExpression => Node.isCallExpression(parent));
}

/** `use("/api", router)` or `register(plugin, { prefix: "/api" })`, with the mounts above the receiver. */
function prefixOfRegistration(call: CallExpression): string | undefined {
  const callee = call.getExpression();
  if (!Node.isPropertyAccessExpression(callee)) return undefined;
  const [first, second] = call.getArguments();
  let own: string | undefined;
  if (callee.getName() === "use" && (Node.isStringLiteral(first) || Node.isNoSubstitutionTemplateLiteral(first))) own = first.getLiteralText();
  else if (callee.getName() === "register") own = stringOption(second, "prefix");
  if (own === undefined) return undefined;
  const statement = call.getFirstAncestor((a): a is Statement => Node.isStatement(a));
  const outer = statement ? mountPrefix(statement, callee.getExpression().getText(), 1) : "";
  return `${outer}/${own.replace(/^\/+|\/+$/g, "")}`.replace(/\/$/, "");
}

function stringOption(options: Node | undefined, name: string): string | undefined {
  if (!Node.isObjectLiteralExpression(options)) return undefined;
  const property = options.getProperty(name);
  const value = Node.isPropertyAssignment(property) ? property.getInitializer() : undefined;
  return Node.isStringLiteral(value) || Node.isNoSubstitutionTemplateLiteral(value) ? value.getLiteralText() : undefined;
}
