import {
  Node,
  SyntaxKind,
  type ClassDeclaration,
  type NewExpression,
  type Project,
  type SourceFile,
  type VariableDeclaration,
} from "ts-morph";
import { exportNamesOf, importedBindings, type ImportedBinding } from "./modules.js";

/** Classes of the OpenAI SDKs (v4+ and the v3 `OpenAIApi`). */
export const SDK_CLASSES = new Set(["OpenAI", "AzureOpenAI", "OpenAIApi"]);
const DEFAULT_WRAPPER_METHOD = "generateResponse";
const LLM_HINT = /llm|openai|generateResponse|chat|completions/i;
const WRAPPER_METHOD_HINT = /generate|complet|chat|ask|respond|prompt/i;

/** The one long-lived LLM client the whole process shares. */
export interface SharedClient {
  name: string;
  sourceFile: SourceFile;
  /** Module-level declaration of the variable that holds it. */
  declaration: VariableDeclaration;
  /** Where it is built (at module level, in a startup function, a listen callback or a lazy getter). */
  construction: NewExpression;
  kind: "sdk" | "wrapper";
  constructedWith: string;
  /** Wrapper only: the method that calls the model, and whether it already returns a promise. */
  method?: string;
  methodReturnsPromise?: boolean;
  /** Module-level functions that hand the client out (`getClient() { return client ??= new OpenAI() }`). */
  getters: Node[];
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
      if (insideClassMember(construction)) continue; // a wrapper's own SDK instance: reached through the wrapper
      if (owner && isModuleLevel(owner)) {
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
          getters: findGetters(owner),
        });
      } else if (construction.getFirstAncestor(Node.isFunctionLikeDeclaration)) {
        perRequest.push({ construction, constructedWith });
      }
    }
  }
  const preferred = overrides.client
    ? shared.filter((c) => c.name === overrides.client)
    : [...shared.filter((c) => c.kind === "wrapper"), ...shared.filter((c) => c.kind === "sdk")];
  const [client, ...others] = preferred.length ? preferred : [];
  return { client, others, perRequest };
}

function looksLikeLlmWrapper(name: string, cls: ClassDeclaration | undefined, method: string | undefined): boolean {
  if (cls) {
    const methods = cls.getMethods().map((m) => m.getName());
    if (method && methods.includes(method)) return true;
    return LLM_HINT.test(name) || LLM_HINT.test(cls.getText());
  }
  return /llm|openai/i.test(name);
}

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
  /** Declarations whose name is the client itself. */
  direct: Set<Node>;
  /** Declarations whose name is a getter that returns the client. */
  getters: Set<Node>;
  /** Declarations of a module object (namespace import, `require`) and the member holding the client. */
  memberOf: Map<Node, Set<string>>;
  getterMemberOf: Map<Node, Set<string>>;
}

export function findClientBindings(files: readonly SourceFile[], client: SharedClient): ClientBindings {
  const bindings: ClientBindings = {
    direct: new Set([client.declaration]),
    getters: new Set(client.getters),
    memberOf: new Map(),
    getterMemberOf: new Map(),
  };
  const project = client.sourceFile.getProject();
  const exported = exportNamesOf(client.sourceFile, client.name, client.declaration);
  const getterExports = client.getters.flatMap((g) => exportNamesOf(client.sourceFile, nameOf(g), g));
  const add = (found: ImportedBinding[], direct: Set<Node>, members: Map<Node, Set<string>>) => {
    for (const binding of found) {
      if (binding.member === undefined) direct.add(binding.declaration);
      else members.set(binding.declaration, (members.get(binding.declaration) ?? new Set()).add(binding.member));
    }
  };
  for (const file of files) {
    if (file === client.sourceFile) continue;
    if (exported.length) add(importedBindings(project, file, client.sourceFile, exported), bindings.direct, bindings.memberOf);
    if (getterExports.length) {
      add(importedBindings(project, file, client.sourceFile, getterExports), bindings.getters, bindings.getterMemberOf);
    }
  }
  return bindings;
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
