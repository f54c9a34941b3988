import { Node, SyntaxKind } from "./ts-morph.js";
import type { ClassDeclaration, NewExpression, SourceFile } from "ts-morph";
import { sdkRows } from "../sdks.js";
import type { ClientDetection, ClientOverrides, PerRequestClient, SharedClient } from "./client.js";
import { anonymousExport, classProperty, decoration, findGetters, insideClassMember, isModuleLevel, nestProvider, owningVariable, returningFunction } from "./client-holders.js";
import { credentialIsPerRequest } from "./credentials.js";
import { isFunction } from "./functions.js";
import { packageName, sdkRowOfClass, sdkRowOfExportedClient } from "./sdk-imports.js";

export type { ClientDetection, ClientOverrides, PerRequestClient, SharedClient } from "./client.js";

const DEFAULT_WRAPPER_METHOD = "generateResponse";
const LLM_HINT = /llm|openai|generateResponse|chat|completions/i;
const WRAPPER_METHOD_HINT = /generate|complet|chat|ask|respond|prompt/i;
/** Names of the SDKs' own non-client classes (`new OpenAIError(…)`, `new ChatCompletionStream(…)`). */
const NOT_A_CLIENT = /(Error|Exception|Stream|Runner|Event|Response|Request|Options|Config|Configuration|Schema|Builder|Page)$/;

/**
 * Every LLM client of the project: each SDK client the SDK table knows, however it is held, and
 * the project's own wrapper class, if any (the one whose method the call sites use). Clients built
 * from the request's own credential are set apart: they are left alone by design.
 */
export function findSharedClient(files: readonly SourceFile[], overrides: ClientOverrides = {}): ClientDetection {
  const classes = new Map<string, ClassDeclaration>();
  for (const file of files) for (const cls of file.getClasses()) if (cls.getName()) classes.set(cls.getName()!, cls);

  const wrappers: SharedClient[] = [];
  const sdkClients: SharedClient[] = [];
  const perRequest: PerRequestClient[] = [];
  for (const file of files) {
    for (const construction of file.getDescendantsOfKind(SyntaxKind.NewExpression)) {
      const constructedWith = construction.getExpression().getText().split(".").pop()!;
      const owner = owningVariable(construction);
      const byOverride = overrides.client !== undefined && owner?.getName() === overrides.client;
      const wrapperClass = classes.get(constructedWith);
      const row = wrapperClass ? undefined : sdkRowOfClass(construction.getExpression(), constructedWith);
      if (row) {
        const found = sdkClient(construction, constructedWith);
        const holder = "perRequest" in found ? perRequestHolder(construction, constructedWith) : found;
        const client: SharedClient = { ...holder, sourceFile: file, construction, kind: "sdk", constructedWith, row };
        if ("perRequest" in found) perRequest.push({ construction, constructedWith, row, client });
        else sdkClients.push(client);
        continue;
      }
      if (!byOverride && !looksLikeLlmWrapper(constructedWith, wrapperClass, overrides.method)) continue;
      // A class with no chat-like method to gate at its call sites: its own SDK calls are gated instead.
      if (wrapperClass && !wrapperClass.getMethod(wrapperMethod(wrapperClass, overrides.method))) continue;
      if (insideClassMember(construction)) continue;
      const method = wrapperMethod(wrapperClass, overrides.method);
      const traits = { sourceFile: file, construction, kind: "wrapper" as const, constructedWith, method, methodReturnsPromise: methodReturnsPromise(wrapperClass, method), wrapperClass };
      const anonymous = owner ? undefined : (anonymousExport(construction) ?? decoration(construction));
      if (anonymous) wrappers.push({ ...anonymous, ...traits, getters: [] });
      else if (owner && isModuleLevel(owner)) {
        if (!wrappers.some((c) => c.declaration === owner)) wrappers.push({ ...traits, name: owner.getName(), sourceFile: owner.getSourceFile(), declaration: owner, getters: findGetters(owner) });
      } else if (construction.getFirstAncestor(isFunction)) perRequest.push({ construction, constructedWith });
    }
  }
  sdkClients.push(...readyMadeClients(files));
  const preferred = overrides.client ? wrappers.filter((c) => c.name === overrides.client) : wrappers;
  const [wrapper, ...others] = preferred;
  // The wrapper's own SDK client is reached through the wrapper's gated call sites.
  const clients = [...(wrapper ? [wrapper] : []), ...sdkClients.filter((c) => !wrapper?.wrapperClass || !inside(c.construction, wrapper.wrapperClass))];
  const named = overrides.client ? clients.find((c) => c.name === overrides.client) : undefined;
  return { client: named ?? clients[0], clients, others, perRequest };
}

type Holder = Pick<SharedClient, "name" | "declaration" | "getters" | "exportNames" | "decoratedAs" | "injectedAs" | "ownerClass" | "classProperties">;

/** What holds an SDK client, or that it is built from the request's own credential. */
function sdkClient(construction: NewExpression, constructedWith: string): Holder | { perRequest: true } {
  const owner = owningVariable(construction);
  const decorated = decoration(construction);
  if (decorated) return { ...decorated, getters: [] };
  const provided = nestProvider(construction);
  if (provided) return { ...provided, getters: [] };
  if (insideClassMember(construction)) {
    if (credentialIsPerRequest(construction)) return { perRequest: true };
    const member = classProperty(construction);
    if (member) return { ...member, classProperties: [{ ownerClass: member.ownerClass!, name: member.name }], getters: [] };
  }
  if (!owner) {
    const exported = anonymousExport(construction);
    if (exported) return { ...exported, getters: [] };
  } else if (isModuleLevel(owner)) {
    return { name: owner.getName(), declaration: owner, getters: findGetters(owner) };
  }
  if (construction.getFirstAncestor(isFunction) && credentialIsPerRequest(construction) && !decoratedLater(owner)) return { perRequest: true };
  const factory = returningFunction(construction, owner);
  if (factory) return { name: nameOf(factory), declaration: owner ?? factory, getters: [factory] };
  if (owner) return { name: owner.getName(), declaration: owner, getters: [] };
  // Built where it is used: `createApp({ openai: new OpenAI() })`, `summarize(new OpenAI(), text)`.
  return { name: constructedWith, declaration: construction, getters: [] };
}

/** What holds a client built per request, so that its calls can be found and reported. */
function perRequestHolder(construction: NewExpression, constructedWith: string): Holder {
  const member = insideClassMember(construction) ? classProperty(construction) : undefined;
  if (member) return { ...member, classProperties: [{ ownerClass: member.ownerClass!, name: member.name }], getters: [] };
  const owner = owningVariable(construction);
  return { name: owner?.getName() ?? constructedWith, declaration: owner ?? construction, getters: [] };
}

/** `const openai = new OpenAI({ apiKey: opts.apiKey }); fastify.decorate("openai", openai)`: a plugin's client lives as long as the server. */
function decoratedLater(owner: Node | undefined): boolean {
  if (!Node.isVariableDeclaration(owner)) return false;
  const name = owner.getNameNode();
  if (!Node.isIdentifier(name)) return false;
  return name.findReferencesAsNodes().some((reference) => {
    const call = reference.getParent();
    return Node.isCallExpression(call) && /\.decorate$/.test(call.getExpression().getText()) && call.getArguments()[1] === reference;
  });
}

function nameOf(node: Node): string {
  return (Node.isFunctionDeclaration(node) || Node.isVariableDeclaration(node) || Node.isMethodDeclaration(node) ? node.getName() : undefined) ?? "client";
}

function inside(node: Node | undefined, container: Node): boolean {
  return node !== undefined && container.getPos() <= node.getPos() && node.getEnd() <= container.getEnd();
}

/** Clients a package exports ready-made: `import ollama from "ollama"`, `const ollama = require("ollama")`. */
function readyMadeClients(files: readonly SourceFile[]): SharedClient[] {
  const packages = new Set(sdkRows("typescript").filter((row) => row.clientExports?.length).flatMap((row) => row.packages));
  const found: SharedClient[] = [];
  for (const file of files) {
    const candidates: Node[] = [];
    for (const declaration of file.getImportDeclarations()) {
      if (!packages.has(packageName(declaration.getModuleSpecifierValue()))) continue;
      const name = declaration.getDefaultImport() ?? declaration.getNamespaceImport();
      if (name) candidates.push(name);
      for (const specifier of declaration.getNamedImports()) candidates.push(specifier.getAliasNode() ?? specifier.getNameNode());
    }
    for (const variable of file.getVariableDeclarations()) {
      const name = variable.getNameNode();
      if (Node.isIdentifier(name) && /require\s*\(/.test(variable.getInitializer()?.getText() ?? "")) candidates.push(name);
    }
    for (const name of candidates) {
      const row = sdkRowOfExportedClient(name);
      const declaration = name.getSymbol()?.getDeclarations()[0];
      if (row && declaration) found.push({ name: name.getText(), sourceFile: file, declaration, kind: "sdk", constructedWith: row.packages[0]!, row, getters: [] });
    }
  }
  return found;
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
