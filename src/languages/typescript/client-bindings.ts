import { Node, SyntaxKind, typescript } from "./ts-morph.js";
import type { ts, ClassDeclaration, SourceFile, StringLiteral } from "ts-morph";
import { skipWrappers } from "./client-holders.js";
import type { SharedClient } from "./client.js";
import { addFlowBindings, addParameterProperty, addThisMember } from "./client-flow.js";
import { exportNamesOf, importedBindings, reExportersOf, type ImportedBinding } from "./modules.js";

/** Every way each file can reach the shared client. */
export interface ClientBindings {
  /** Declarations whose name is the client itself (variables, imports, parameters it is passed to). */
  direct: Set<Node>;
  /** Declarations whose name is a getter that returns the client. */
  getters: Set<Node>;
  /** Declarations of a module object (namespace import, `require`) and the member holding the client. */
  memberOf: Map<Node, Set<string>>;
  getterMemberOf: Map<Node, Set<string>>;
  /** Clients held in class properties: `this.<name>` inside that class. */
  thisMembers: { ownerClass: ClassDeclaration; name: string }[];
  /** Names it is decorated under on a server object (`fastify.decorate("openai", client)`). */
  decorated: Set<string>;
}

/** Objects a decorated client is read from: `fastify.openai`, `server.openai`, `req.server.openai`. */
const DECORATED_OWNER = /^(?:this|(?:\w+\.)*(?:fastify|server|app|instance))$/;

export function findClientBindings(files: readonly SourceFile[], client: SharedClient): ClientBindings {
  const bindings: ClientBindings = {
    direct: new Set([client.declaration]),
    getters: new Set(client.getters),
    memberOf: new Map(),
    getterMemberOf: new Map(),
    thisMembers: [...(client.classProperties ?? [])],
    decorated: new Set(client.decoratedAs ? [client.decoratedAs] : []),
  };
  const project = client.sourceFile.getProject();
  const exported = client.exportNames ?? exportNamesOf(client.sourceFile, client.name, client.declaration);
  const getterExports = client.getters.flatMap((g) => exportNamesOf(client.sourceFile, nameOf(g), g));
  const add = (found: ImportedBinding[], direct: Set<Node>, members: Map<Node, Set<string>>) => {
    for (const binding of found) {
      if (binding.member === undefined) direct.add(binding.declaration);
      else members.set(binding.declaration, (members.get(binding.declaration) ?? new Set()).add(binding.member));
    }
  };
  const exporters = exported.length ? reExportersOf(project, files, client.sourceFile, exported) : new Map();
  const getterExporters = getterExports.length ? reExportersOf(project, files, client.sourceFile, getterExports) : new Map();
  for (const file of files) {
    for (const [exporter, names] of exporters) {
      if (file !== exporter) add(importedBindings(project, file, exporter, names), bindings.direct, bindings.memberOf);
    }
    for (const [exporter, names] of getterExporters) {
      if (file !== exporter) add(importedBindings(project, file, exporter, names), bindings.getters, bindings.getterMemberOf);
    }
  }
  addDecoratedBindings(files, bindings);
  if (client.injectedAs) addInjectedBindings(files, client.injectedAs, bindings);
  addFlowBindings(files, bindings);
  return bindings;
}

/** `fastify.decorate("openai", client)`, then `const { openai } = fastify` or `req.server.openai`. */
function addDecoratedBindings(files: readonly SourceFile[], bindings: ClientBindings): void {
  const decorations = files.flatMap((file) =>
    file.getDescendantsOfKind(SyntaxKind.CallExpression).filter((call) => {
      const callee = call.getExpression();
      return Node.isPropertyAccessExpression(callee) && callee.getName() === "decorate" && Node.isStringLiteral(call.getArguments()[0]);
    }),
  );
  // Again after each new name: `decorate("openAIClient", fastify.openai)` needs "openai" first.
  for (let grew = true; grew; ) {
    grew = false;
    for (const call of decorations) {
      const [name, value] = call.getArguments();
      const decorated = (name as StringLiteral).getLiteralText();
      if (value && !bindings.decorated.has(decorated) && isClientExpression(value, bindings)) {
        bindings.decorated.add(decorated);
        grew = true;
      }
    }
  }
  if (!bindings.decorated.size) return;
  for (const file of files) {
    for (const element of file.getDescendantsOfKind(SyntaxKind.BindingElement)) {
      const declaration = element.getFirstAncestorByKind(SyntaxKind.VariableDeclaration);
      const from = declaration?.getInitializer();
      const property = element.getPropertyNameNode()?.getText() ?? element.getName();
      if (from && bindings.decorated.has(property) && DECORATED_OWNER.test(from.getText().replace(/\s/g, ""))) {
        bindings.direct.add(element);
      }
    }
  }
}

/**
 * Nest injects a provider's client where a constructor parameter or a property asks for its
 * token: `constructor(private readonly openai: OpenAI)` for a class token, `@Inject("LLM")` for
 * any token.
 */
function addInjectedBindings(files: readonly SourceFile[], token: string, bindings: ClientBindings): void {
  const asksFor = (node: Node & { getDecorators(): { getName(): string; getArguments(): Node[] }[]; getTypeNode(): Node | undefined }) => {
    const inject = node.getDecorators().find((d) => d.getName() === "Inject");
    if (inject) return inject.getArguments()[0]?.getText() === token;
    return /^[A-Za-z_$][\w$.]*$/.test(token) && node.getTypeNode()?.getText() === token;
  };
  for (const file of files) {
    for (const cls of file.getClasses()) {
      for (const parameter of cls.getConstructors()[0]?.getParameters() ?? []) {
        if (!asksFor(parameter)) continue;
        bindings.direct.add(parameter);
        addParameterProperty(parameter, bindings);
      }
      for (const property of cls.getProperties()) {
        if (property.getDecorators().some((d) => d.getName() === "Inject") && asksFor(property)) addThisMember(cls, property.getName(), bindings);
      }
    }
  }
}

function nameOf(node: Node): string {
  return Node.isFunctionDeclaration(node) || Node.isVariableDeclaration(node) ? (node.getName() ?? "") : "";
}

/** Whether an expression evaluates to the shared client: `llm`, `clients.llm`, `getClient()`. */
export function isClientExpression(expression: Node, bindings: ClientBindings): boolean {
  let node = skipWrappers(expression);
  if (Node.isAwaitExpression(node)) node = skipWrappers(node.getExpression());
  // A client built right where it is passed on: `createApp({ openai: new OpenAI() })`.
  if (bindings.direct.has(node)) return true;
  if (Node.isIdentifier(node)) return declaredBy(node, bindings.direct);
  if (Node.isPropertyAccessExpression(node)) {
    const object = skipWrappers(node.getExpression());
    if (Node.isThisExpression(object)) {
      const ownerClass = object.getFirstAncestorByKind(SyntaxKind.ClassDeclaration);
      if (bindings.thisMembers.some((m) => m.ownerClass === ownerClass && m.name === node.getName())) return true;
    }
    if (bindings.decorated.has(node.getName()) && DECORATED_OWNER.test(object.getText().replace(/\s/g, ""))) return true;
    return Node.isIdentifier(object) && memberDeclaredBy(object, node.getName(), bindings.memberOf);
  }
  // `getClient()`, `factory.getClient("DEFAULT")`, `clients.getClient()` (a module object's getter).
  if (Node.isCallExpression(node)) {
    const callee = skipWrappers(node.getExpression());
    if (Node.isIdentifier(callee)) return declaredBy(callee, bindings.getters);
    if (Node.isPropertyAccessExpression(callee)) {
      const object = callee.getExpression();
      if (declaredBy(callee.getNameNode(), bindings.getters)) return true;
      return Node.isIdentifier(object) && memberDeclaredBy(object, callee.getName(), bindings.getterMemberOf);
    }
  }
  return false;
}

export function declaredBy(identifier: Node, declarations: Set<Node>): boolean {
  if (!mayBeDeclaredBy(identifier, declarations)) return false;
  const symbol = identifier.getSymbol();
  if (!symbol) return false;
  return symbol.getDeclarations().some((d) => declarations.has(d));
}

export function memberDeclaredBy(identifier: Node, member: string, declarations: Map<Node, Set<string>>): boolean {
  if (!declarations.size || !mayBeDeclaredBy(identifier, declarations)) return false;
  const symbol = identifier.getSymbol();
  return symbol?.getDeclarations().some((d) => declarations.get(d)?.has(member)) ?? false;
}

/** The names a set of declarations declares, for the set's current size; undefined when one has no name of its own. */
const declaredNames = new WeakMap<object, { size: number; names: Set<string> | undefined }>();

/**
 * A test by text before asking the type checker (asked for every argument and receiver of every
 * call otherwise): an identifier's symbol has the identifier's own name, and so has each of its
 * declarations that names itself (`const x`, `import { y as x }`, a parameter `x`). A declaration
 * without such a name (a CommonJS `exports.x = …`) turns the test off for that set.
 */
function mayBeDeclaredBy(identifier: Node, declarations: Set<Node> | Map<Node, unknown>): boolean {
  let known = declaredNames.get(declarations);
  if (!known || known.size !== declarations.size) {
    let names: Set<string> | undefined = new Set<string>();
    for (const declaration of declarations.keys()) {
      const name = ownName(declaration.compilerNode);
      if (name === null) continue;
      if (name === undefined) {
        names = undefined;
        break;
      }
      names.add(name);
    }
    known = { size: declarations.size, names };
    declaredNames.set(declarations, known);
  }
  return !known.names || known.names.has((identifier.compilerNode as ts.Identifier).text);
}

/** A declaration's own name; null for a node no identifier can resolve to (`new OpenAI()` passed on); undefined when unknown. */
function ownName(node: ts.Node): string | null | undefined {
  const name = (node as ts.Node & { name?: ts.Node }).name;
  if (name && (typescript.isIdentifier(name) || typescript.isPrivateIdentifier(name) || typescript.isStringLiteral(name) || typescript.isNumericLiteral(name))) return name.text;
  if (name) return undefined;
  if (typescript.isNewExpression(node) || typescript.isObjectLiteralExpression(node) || typescript.isArrayLiteralExpression(node)) return null;
  return undefined;
}
