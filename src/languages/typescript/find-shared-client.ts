import {
  Node,
  SyntaxKind,
  type CallExpression,
  type ClassDeclaration,
  type NewExpression,
  type ParameterDeclaration,
  type StringLiteral,
  type SourceFile,
  type VariableDeclaration,
} from "ts-morph";
import { exportNamesOf, importedBindings, reExportersOf, type ExportName, type ImportedBinding } from "./modules.js";
import { isFunction } from "./functions.js";

/** Classes of the OpenAI SDKs (v4+ and the v3 `OpenAIApi`). */
export const SDK_CLASSES = new Set(["OpenAI", "AzureOpenAI", "OpenAIApi"]);
const DEFAULT_WRAPPER_METHOD = "generateResponse";
const LLM_HINT = /llm|openai|generateResponse|chat|completions/i;
const WRAPPER_METHOD_HINT = /generate|complet|chat|ask|respond|prompt/i;

/** The one long-lived LLM client the whole process shares. */
export interface SharedClient {
  name: string;
  sourceFile: SourceFile;
  /**
   * What holds it: a module-level variable, the `export default new OpenAI()` /
   * `module.exports = new OpenAI()` that exports it with no variable, or the class property
   * (`private openai = new OpenAI()`, `this.openai = new OpenAI()`) of a long-lived service.
   */
  declaration: VariableDeclaration | Node;
  /** Set for a client held in a class property, reached as `this.<name>` inside that class. */
  ownerClass?: ClassDeclaration;
  /**
   * Every long-lived service's own client, when those are the clients (Nest apps give each
   * provider its own `new OpenAI()`): all are gated, as one process-wide pool.
   */
  classProperties?: { ownerClass: ClassDeclaration; name: string }[];
  /** Where it is built (at module level, in a startup function, a listen callback or a lazy getter). */
  construction: NewExpression;
  kind: "sdk" | "wrapper";
  constructedWith: string;
  /** Wrapper only: the method that calls the model, and whether it already returns a promise. */
  method?: string;
  methodReturnsPromise?: boolean;
  /** Wrapper only: its class, when the project declares it. */
  wrapperClass?: ClassDeclaration;
  /** Module-level functions that hand the client out (`getClient() { return client ??= new OpenAI() }`). */
  getters: Node[];
  /** Export names when there is no variable to look them up by (`export default new OpenAI()`). */
  exportNames?: ExportName[];
  /** Set for a client made right inside `fastify.decorate("openai", new OpenAI())`: that name. */
  decoratedAs?: string;
}

/** A client built inside a function from per-call data: not shared, so not migrated. */
export interface PerRequestClient {
  construction: NewExpression;
  constructedWith: string;
}

export interface ClientDetection {
  client?: SharedClient;
  /** Other shared-looking clients, when more than one was found (only the first is migrated). */
  others: SharedClient[];
  perRequest: PerRequestClient[];
}

export interface ClientOverrides {
  client?: string;
  method?: string;
}

export function findSharedClient(files: readonly SourceFile[], overrides: ClientOverrides = {}): ClientDetection {
  const classes = new Map<string, ClassDeclaration>();
  for (const file of files) for (const cls of file.getClasses()) if (cls.getName()) classes.set(cls.getName()!, cls);

  const shared: SharedClient[] = [];
  /** SDK instances held in class properties: the client only when no module-level one exists. */
  const members: SharedClient[] = [];
  const perRequest: PerRequestClient[] = [];
  for (const file of files) {
    for (const construction of file.getDescendantsOfKind(SyntaxKind.NewExpression)) {
      const constructedWith = construction.getExpression().getText().split(".").pop()!;
      const owner = owningVariable(construction);
      const byOverride = overrides.client !== undefined && owner?.getName() === overrides.client;
      const wrapperClass = classes.get(constructedWith);
      const isSdk = SDK_CLASSES.has(constructedWith);
      const isWrapper = !isSdk && (byOverride || looksLikeLlmWrapper(constructedWith, wrapperClass, overrides.method));
      if (!isSdk && !isWrapper) continue;
      // A class with no chat-like method to gate at its call sites: its own SDK calls are gated instead.
      if (isWrapper && wrapperClass && !wrapperClass.getMethod(wrapperMethod(wrapperClass, overrides.method))) continue;
      if (insideClassMember(construction)) {
        const member = isSdk ? classProperty(construction) : undefined;
        if (member) members.push({ ...member, sourceFile: file, construction, kind: "sdk", constructedWith, getters: [] });
        continue;
      }
      const anonymous = owner ? undefined : (anonymousExport(construction) ?? decoration(construction));
      if (anonymous) {
        const method = isWrapper ? wrapperMethod(wrapperClass, overrides.method) : undefined;
        const kind = isSdk ? "sdk" : "wrapper";
        const returnsPromise = method ? methodReturnsPromise(wrapperClass, method) : undefined;
        shared.push({ ...anonymous, sourceFile: file, construction, kind, constructedWith, method, methodReturnsPromise: returnsPromise, wrapperClass, getters: [] });
      } else if (owner && isModuleLevel(owner)) {
        if (shared.some((c) => c.declaration === owner)) continue;
        const method = isWrapper ? wrapperMethod(wrapperClass, overrides.method) : undefined;
        shared.push({
          name: owner.getName(),
          sourceFile: owner.getSourceFile(),
          declaration: owner,
          construction,
          kind: isSdk ? "sdk" : "wrapper",
          constructedWith,
          method,
          methodReturnsPromise: method ? methodReturnsPromise(wrapperClass, method) : undefined,
          wrapperClass: isWrapper ? wrapperClass : undefined,
          getters: findGetters(owner),
        });
      } else if (construction.getFirstAncestor(isFunction)) {
        perRequest.push({ construction, constructedWith });
      }
    }
  }
  // A class built per request holds a per-request client, not a shared one.
  const longLived = members.filter((m) => !constructedPerRequest(m.ownerClass!, files));
  const candidates = shared.length ? shared : longLived;
  const preferred = overrides.client
    ? candidates.filter((c) => c.name === overrides.client)
    : [...candidates.filter((c) => c.kind === "wrapper"), ...candidates.filter((c) => c.kind === "sdk")];
  if (!shared.length && preferred.length) {
    const [client] = preferred;
    const classProperties = preferred.map((m) => ({ ownerClass: m.ownerClass!, name: m.name }));
    return { client: { ...client!, classProperties }, others: [], perRequest };
  }
  const [client, ...others] = preferred.length ? preferred : [];
  return { client, others, perRequest };
}

function looksLikeLlmWrapper(name: string, cls: ClassDeclaration | undefined, method: string | undefined): boolean {
  if (NOT_A_CLIENT.test(name) && !(method && cls?.getMethod(method))) return false;
  if (cls) {
    const methods = cls.getMethods().map((m) => m.getName());
    if (method && methods.includes(method)) return true;
    // A client is called through a method; a class with none only uses one (`new Greeting(name).text`).
    if (!methods.length) return false;
    return LLM_HINT.test(name) || LLM_HINT.test(cls.getText());
  }
  // A class we cannot see (a package's): its name must say so.
  return /llm|openai/i.test(name);
}

/** Names of the SDK's own non-client classes (`new OpenAIError(…)`, `new ChatCompletionStream(…)`). */
const NOT_A_CLIENT = /(Error|Exception|Stream|Runner|Event|Response|Request|Options|Config|Configuration|Schema|Builder|Page)$/;

function wrapperMethod(cls: ClassDeclaration | undefined, override: string | undefined): string {
  if (override) return override;
  if (!cls || cls.getMethod(DEFAULT_WRAPPER_METHOD)) return DEFAULT_WRAPPER_METHOD;
  return cls.getMethods().find((m) => WRAPPER_METHOD_HINT.test(m.getName()))?.getName() ?? DEFAULT_WRAPPER_METHOD;
}

function methodReturnsPromise(cls: ClassDeclaration | undefined, name: string): boolean | undefined {
  const method = cls?.getMethod(name);
  if (!method) return undefined;
  if (method.isAsync()) return true;
  const declared = method.getReturnTypeNode()?.getText();
  if (declared) return /^(Promise|PromiseLike)</.test(declared);
  return method.getReturnType().getSymbol()?.getName() === "Promise";
}

/** The variable a `new X()` ends up in: `const c = new X()`, `c = new X()`, `c ??= new X()`. */
function owningVariable(construction: NewExpression): VariableDeclaration | undefined {
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
function anonymousExport(construction: NewExpression): Pick<SharedClient, "name" | "declaration" | "exportNames"> | undefined {
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

function isModuleLevelAssignment(assignment: Node): boolean {
  return (
    Node.isBinaryExpression(assignment) &&
    assignment.getOperatorToken().getKind() === SyntaxKind.EqualsToken &&
    Node.isSourceFile(assignment.getParent()?.getParent())
  );
}

/** `fastify.decorate("openai", new OpenAI())`: the server object holds it under that name. */
function decoration(construction: NewExpression): Pick<SharedClient, "name" | "declaration" | "decoratedAs" | "exportNames"> | undefined {
  const call = construction.getParent();
  if (!Node.isCallExpression(call) || call.getArguments()[1] !== construction) return undefined;
  const callee = call.getExpression();
  const [name] = call.getArguments();
  if (!Node.isPropertyAccessExpression(callee) || callee.getName() !== "decorate" || !Node.isStringLiteral(name)) return undefined;
  return { name: name.getLiteralText(), declaration: call, decoratedAs: name.getLiteralText(), exportNames: [] };
}

/** `private openai = new OpenAI()` or `this.openai = new OpenAI()` in a constructor. */
function classProperty(construction: NewExpression): Pick<SharedClient, "name" | "declaration" | "ownerClass"> | undefined {
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

function constructedPerRequest(cls: ClassDeclaration, files: readonly SourceFile[]): boolean {
  const name = cls.getName();
  return files.some((file) =>
    file
      .getDescendantsOfKind(SyntaxKind.NewExpression)
      .some((n) => n.getExpression().getText() === name && n.getFirstAncestor(isFunction) !== undefined),
  );
}

function isModuleLevel(declaration: VariableDeclaration): boolean {
  return Node.isSourceFile(declaration.getVariableStatement()?.getParent());
}

function insideClassMember(node: Node): boolean {
  return node.getFirstAncestor((a) => Node.isPropertyDeclaration(a) || Node.isConstructorDeclaration(a)) !== undefined;
}

/** Module-level functions whose body returns the client (lazy getters). */
function findGetters(declaration: VariableDeclaration): Node[] {
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
    thisMembers: client.classProperties ?? [],
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
  addParameterBindings(files, bindings);
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
 * Parameters the client is passed to: `summarize(openai, text)` makes `client` in
 * `async function summarize(client, text)` the client too. Followed a few hops, as helpers nest.
 */
function addParameterBindings(files: readonly SourceFile[], bindings: ClientBindings): void {
  for (let hop = 0; hop < 3; hop++) {
    const before = bindings.direct.size;
    for (const file of files) {
      for (const call of file.getDescendantsOfKind(SyntaxKind.CallExpression)) {
        const args = call.getArguments();
        if (!args.some((arg) => isClientExpression(arg, bindings))) continue;
        const parameters = calledFunction(call)?.getParameters() ?? [];
        args.forEach((arg, index) => {
          const parameter = parameters[index];
          if (parameter && Node.isIdentifier(parameter.getNameNode()) && isClientExpression(arg, bindings)) bindings.direct.add(parameter);
        });
      }
    }
    if (bindings.direct.size === before) return;
  }
}

type FunctionWithParameters = Node & { getParameters(): ParameterDeclaration[] };

/** The function a call runs, when it is a plain function of the project (imports followed). */
function calledFunction(call: CallExpression): FunctionWithParameters | undefined {
  const callee = call.getExpression();
  if (!Node.isIdentifier(callee)) return undefined;
  let symbol = callee.getSymbol();
  symbol = symbol?.getAliasedSymbol() ?? symbol;
  for (const declaration of symbol?.getDeclarations() ?? []) {
    if (Node.isFunctionDeclaration(declaration)) return declaration;
    const initializer = Node.isVariableDeclaration(declaration) ? declaration.getInitializer() : undefined;
    if (Node.isArrowFunction(initializer) || Node.isFunctionExpression(initializer)) return initializer;
  }
  return undefined;
}

function nameOf(node: Node): string {
  return Node.isFunctionDeclaration(node) || Node.isVariableDeclaration(node) ? (node.getName() ?? "") : "";
}

/** Whether an expression evaluates to the shared client: `llm`, `clients.llm`, `getClient()`. */
export function isClientExpression(expression: Node, bindings: ClientBindings): boolean {
  const node = skipWrappers(expression);
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
  if (Node.isCallExpression(node) && node.getArguments().length === 0) {
    const callee = skipWrappers(node.getExpression());
    if (Node.isIdentifier(callee)) return declaredBy(callee, bindings.getters);
    if (Node.isPropertyAccessExpression(callee)) {
      const object = callee.getExpression();
      return Node.isIdentifier(object) && memberDeclaredBy(object, callee.getName(), bindings.getterMemberOf);
    }
  }
  return false;
}

function skipWrappers(node: Node): Node {
  let current = node;
  while (Node.isParenthesizedExpression(current) || Node.isNonNullExpression(current) || Node.isAsExpression(current)) {
    current = current.getExpression();
  }
  return current;
}

function declaredBy(identifier: Node, declarations: Set<Node>): boolean {
  const symbol = identifier.getSymbol();
  if (!symbol) return false;
  return symbol.getDeclarations().some((d) => declarations.has(d));
}

function memberDeclaredBy(identifier: Node, member: string, declarations: Map<Node, Set<string>>): boolean {
  const symbol = identifier.getSymbol();
  return symbol?.getDeclarations().some((d) => declarations.get(d)?.has(member)) ?? false;
}
