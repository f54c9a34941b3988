import type { SdkCall } from "../sdks.js";
import type { PythonLlmClient, WrapperClasses } from "./find-llm-clients.js";
import { ancestors, children, descendants, parametersOf, type PythonNode, type PythonSourceFile } from "./parse.js";
import { importsName } from "./imports.js";
import { importedPackages, moduleClientRows, sdkCallAt } from "./sdk-table.js";

/** Wrapper methods that ask the model for a reply, for a wrapper class defined outside the tree, when the user does not name one with --method. */
const WRAPPER_METHOD = /generate|complet|chat|ask|respon|reply|answer|invoke|predict|summar/i;

/**
 * What the call reaches, which decides its rewrite: an SDK method, a wrapper (a project function or
 * method that makes LLM calls), a local model run in-process, or a blocking HTTP request to an LLM
 * API (`requests.post`, `httpx.post`).
 */
export type PythonLlmCallKind = "sdk" | "wrapper" | "model" | "http";

export interface PythonLlmCall {
  file: PythonSourceFile;
  call: PythonNode;
  /** The function called, as written: `llm_client.generate_response`, `request.app.state.llm_client.chat.completions.create`. */
  callee: string;
  /** The method after the client: `generate_response`, `chat.completions.create`; empty when the client itself is called. */
  method: string;
  kind: PythonLlmCallKind;
  /** True when the call is the operand of `await`. */
  awaited: boolean;
  /** The client it is made on; undefined for module calls, wrapper functions and HTTP requests. */
  client?: PythonLlmClient;
  /** The SDK table's entry for the call, when it has one. */
  sdkCall?: SdkCall;
}

/** A sync project function that makes LLM calls (`def ask_llm(prompt): ...`), called by name from where it is visible. */
export interface PythonWrapperFunction {
  file: PythonSourceFile;
  fn: PythonNode;
  name: string;
}

/** Every call on the given clients, in every file that can reach them. */
export function findClientCalls(
  files: readonly PythonSourceFile[],
  clients: readonly PythonLlmClient[],
  wrappers: WrapperClasses,
  method?: string,
  gatedInside: WrapperClasses = new Map(),
): PythonLlmCall[] {
  const calls: PythonLlmCall[] = [];
  const seen = new Set<string>();
  const functions = functionsByName(files);
  // Each file's calls and each call's enclosing functions are found once, not once per client.
  const callsIn = cachedBy((file: PythonSourceFile) => file, (file) => descendants(file.root, "call"));
  const factsOf = cachedBy((fn: PythonNode) => fn.id, functionFacts);
  const functionsAround = cachedBy((call: PythonNode) => call.id, (call) => ancestors(call).filter((a) => a.type === "function_definition"));
  for (const client of clients) {
    const aliases = clientAliases(client, files, functions, factsOf);
    for (const file of files) {
      const reachesByName = client.access.kind === "name" && (file === client.file || importsName(file, client.access.name));
      if ((client.access.kind === "self" || client.access.kind === "local") && file !== client.file) continue;
      const scope = client.access.kind === "self" ? client.access.cls : client.access.kind === "local" ? client.access.fn : undefined;
      for (const call of scope ? descendants(scope, "call") : callsIn(file)) {
        const fn = call.childForFieldName("function");
        if (fn?.type !== "attribute" && fn?.type !== "identifier") continue;
        const match = splitClientCall(fn.text, client, reachesByName, aliases(functionsAround(call)));
        if (match === undefined) continue;
        const sdkCall = client.row && sdkCallAt(client.row, match);
        // An async method whose LLM calls are gated inside it: gating its call too would take two slots (and deadlock a full pool).
        const gatedWithin = gatedInside.get(client.constructedWith)?.has(match) ?? false;
        const gated = client.row ? sdkCall !== undefined : !gatedWithin && isWrapperMethod(match, wrappers.get(client.constructedWith), method);
        const at = `${file.getFilePath()}:${call.startIndex}`;
        if (!gated || seen.has(at)) continue;
        seen.add(at);
        calls.push({ file, call, callee: fn.text, method: match, kind: client.kind, awaited: isAwaited(call), client, ...(sdkCall ? { sdkCall } : {}) });
      }
    }
  }
  return calls;
}

/** Pre-1.0 module calls: `openai.ChatCompletion.create(...)` where the module itself is the client. */
export function findModuleCalls(files: readonly PythonSourceFile[]): PythonLlmCall[] {
  const calls: PythonLlmCall[] = [];
  for (const file of files) {
    for (const row of moduleClientRows(importedPackages(file))) {
      for (const call of descendants(file.root, "call")) {
        const callee = call.childForFieldName("function")?.text ?? "";
        const module = row.packages.find((p) => callee.startsWith(`${p}.`));
        const sdkCall = module === undefined ? undefined : sdkCallAt(row, callee.slice(module.length + 1));
        if (sdkCall) calls.push({ file, call, callee, method: sdkCall.path, kind: "sdk", awaited: isAwaited(call), sdkCall });
      }
    }
  }
  return calls;
}

/** Calls of wrapper functions, by their name where they are defined or imported, or as `module.name`. */
export function findWrapperFunctionCalls(files: readonly PythonSourceFile[], wrappers: readonly PythonWrapperFunction[]): PythonLlmCall[] {
  const calls: PythonLlmCall[] = [];
  for (const wrapper of wrappers) {
    const module = wrapper.file.getFilePath().replace(/^.*\//, "").replace(/\.py$/, "");
    for (const file of files) {
      const byName = file === wrapper.file || importsName(file, wrapper.name);
      for (const call of descendants(file.root, "call")) {
        const callee = call.childForFieldName("function")?.text ?? "";
        if (!(byName && callee === wrapper.name) && callee !== `${module}.${wrapper.name}`) continue;
        if (ancestors(call).some((a) => a.equals(wrapper.fn))) continue; // recursion is not a caller
        calls.push({ file, call, callee, method: "", kind: "wrapper", awaited: isAwaited(call) });
      }
    }
  }
  return calls;
}

function isAwaited(call: PythonNode): boolean {
  return call.parent?.type === "await";
}

/** Methods of a project wrapper class found making LLM calls; else --method, else a name that asks for a reply. */
function isWrapperMethod(method: string, found: ReadonlySet<string> | undefined, named?: string): boolean {
  if (named) return method === named;
  if (found && found.size > 0) return found.has(method);
  return method !== "" && !method.includes(".") && WRAPPER_METHOD.test(method);
}

/** The method part of `receiver.method` when the receiver is the client; "" when the client itself is called. */
function splitClientCall(callee: string, client: PythonLlmClient, reachesByName: boolean, aliases: Set<string>): string | undefined {
  const receivers = [...aliases];
  if (client.access.kind === "name" && reachesByName) receivers.push(client.access.name);
  if (client.access.kind === "self") receivers.push(`self.${client.access.attribute}`);
  if (client.access.kind === "local") receivers.push(client.access.name);
  for (const receiver of receivers) {
    if (callee === receiver) return "";
    if (callee.startsWith(`${receiver}.`)) return callee.slice(receiver.length + 1);
  }
  if (client.access.kind === "state") {
    if (callee.endsWith(`.state.${client.access.attribute}`)) return "";
    const at = callee.indexOf(`.state.${client.access.attribute}.`);
    if (at !== -1) return callee.slice(at + `.state.${client.access.attribute}.`.length);
  }
  return undefined;
}

/**
 * Local names that hold the client in the functions around a call: `client = request.app.state.llm_client`,
 * a parameter filled by `Depends(get_llm)` where `get_llm` returns the client, a parameter annotated
 * with the client's class (`ai_client: ChatClient`), and the attribute of a holder object built
 * with the client (`service = ChatService(session, request.app.state.llm)` → `service.client`,
 * when `ChatService.__init__` keeps that argument as `self.client`).
 * Each function's names are found once per client, and each provider looked up once: asked afresh
 * for every call, they made a scan grow with the square of the project's size (29 modules: 6 s).
 */
function clientAliases(
  client: PythonLlmClient,
  files: readonly PythonSourceFile[],
  functions: FunctionsByName,
  factsOf: (fn: PythonNode) => FunctionFacts,
): (around: readonly PythonNode[]) => Set<string> {
  if (client.access.kind === "self" || client.access.kind === "local") return () => new Set();
  const isClient = (expression: string) =>
    client.access.kind === "state" ? expression.endsWith(`.state.${client.access.attribute}`) : client.access.kind === "name" && expression === client.access.name;
  const ofClass = new RegExp(`(^|[^\\w.])${client.constructedWith}($|[^\\w])`);
  const returnsClient = cachedBy((provider: string) => provider, (provider) => providerReturns(functions.get(provider) ?? [], isClient));
  const aliasesOf = cachedBy((fn: PythonNode) => fn.id, (fn) => {
    const aliases: string[] = [];
    const { assignments, parameters } = factsOf(fn);
    for (const { left, right } of assignments) {
      if (isClient(right.text)) aliases.push(left);
      else if (right.type === "call") for (const attribute of heldAs(right, isClient, files)) aliases.push(`${left}.${attribute}`);
    }
    for (const param of parameters) {
      const provider = /^Depends\(\s*(\w+)\s*\)$/.exec(param.default ?? "")?.[1];
      if (provider && returnsClient(provider)) aliases.push(param.name);
      if (client.constructedWith && param.annotation !== undefined && ofClass.test(param.annotation)) aliases.push(param.name);
    }
    return aliases;
  });
  return (around) => new Set(around.flatMap(aliasesOf));
}

/** The attributes a project class keeps the client under when `construction` (`ChatService(session, client)`) passes it to `__init__`. */
function heldAs(construction: PythonNode, isClient: (expression: string) => boolean, files: readonly PythonSourceFile[]): string[] {
  const args = children(construction.childForFieldName("arguments") ?? construction).filter((a) => a.type !== "comment");
  if (!args.some((a) => isClient((a.type === "keyword_argument" ? a.childForFieldName("value") : a)?.text ?? ""))) return [];
  const className = construction.childForFieldName("function")?.text.split(".").at(-1);
  const init = files
    .flatMap((file) => descendants(file.root, "class_definition"))
    .filter((cls) => cls.childForFieldName("name")?.text === className)
    .flatMap((cls) => descendants(cls, "function_definition").filter((fn) => fn.childForFieldName("name")?.text === "__init__"))[0];
  if (!init) return [];
  const params = parametersOf(init).slice(1); // after self
  const passed = args.flatMap((arg, index) => {
    const value = arg.type === "keyword_argument" ? arg.childForFieldName("value") : arg;
    if (!isClient(value?.text ?? "")) return [];
    const name = arg.type === "keyword_argument" ? arg.childForFieldName("name")?.text : params[index]?.name;
    return name ? [name] : [];
  });
  return descendants(init, "assignment").flatMap((a) => {
    const left = a.childForFieldName("left");
    const object = left?.type === "attribute" ? left.childForFieldName("object")?.text : undefined;
    return object === "self" && passed.includes(a.childForFieldName("right")?.text ?? "") ? [left!.childForFieldName("attribute")!.text] : [];
  });
}

/** What a function's names may hold: its `name = …` assignments and its parameters. */
interface FunctionFacts {
  assignments: { left: string; right: PythonNode }[];
  parameters: ReturnType<typeof parametersOf>;
}

function functionFacts(fn: PythonNode): FunctionFacts {
  const assignments: FunctionFacts["assignments"] = [];
  for (const assignment of descendants(fn, "assignment")) {
    const left = assignment.childForFieldName("left");
    const right = assignment.childForFieldName("right");
    if (left?.type === "identifier" && right) assignments.push({ left: left.text, right });
  }
  return { assignments, parameters: parametersOf(fn) };
}

/** Every function defined in the project, by name (methods too), for the dependency providers a route names. */
type FunctionsByName = Map<string, PythonNode[]>;

function functionsByName(files: readonly PythonSourceFile[]): FunctionsByName {
  const functions: FunctionsByName = new Map();
  for (const file of files) {
    for (const fn of descendants(file.root, "function_definition")) {
      const name = fn.childForFieldName("name")?.text;
      if (name !== undefined) functions.set(name, [...(functions.get(name) ?? []), fn]);
    }
  }
  return functions;
}

/** Whether a dependency provider (`def get_llm(request: Request): return request.app.state.llm`), one of the functions of its name, returns the client. */
function providerReturns(named: readonly PythonNode[], isClient: (expression: string) => boolean): boolean {
  return named.some((fn) =>
    descendants(fn, "return_statement", "yield").some((r) => {
      const value = children(r)[0]?.text;
      return value !== undefined && isClient(value);
    }),
  );
}

/** A call site the migration already rewrote: `(new path) if use_new_llm_path(...) else (original)`. */
export interface PythonMigratedCall {
  file: PythonSourceFile;
  conditional: PythonNode;
  callee: string;
  /** The `key=` of its condition; undefined for `key=None`. */
  key?: string;
}

/** Call sites rewritten by an earlier run, found by their `use_new_llm_path(...)` condition. */
export function findMigratedCalls(files: readonly PythonSourceFile[]): PythonMigratedCall[] {
  const found: PythonMigratedCall[] = [];
  for (const file of files) {
    for (const conditional of descendants(file.root, "conditional_expression")) {
      const [, condition, legacy] = children(conditional);
      if (condition?.type !== "call" || condition.childForFieldName("function")?.text !== "use_new_llm_path" || !legacy) continue;
      const key = children(condition.childForFieldName("arguments")!).find((a) => a.type === "keyword_argument" && a.childForFieldName("name")?.text === "key");
      const keyText = key?.childForFieldName("value")?.text;
      found.push({ file, conditional, callee: legacyCallee(legacy), key: keyText === "None" ? undefined : keyText });
    }
  }
  return found;
}

/** `llm_client.generate_response` from `await asyncio.to_thread(llm_client.generate_response, messages)` or the original call. */
function legacyCallee(legacy: PythonNode): string {
  const call = legacy.type === "await" ? children(legacy)[0] : legacy;
  if (call?.type !== "call") return legacy.text;
  const fn = call.childForFieldName("function")!;
  if (fn.text === "asyncio.to_thread") return children(call.childForFieldName("arguments")!)[0]?.text ?? fn.text;
  return fn.text;
}

/** `compute`, asked once per key (`keyOf` of its argument): later asks get the first answer. */
function cachedBy<A, K, V>(keyOf: (argument: A) => K, compute: (argument: A) => V): (argument: A) => V {
  const answers = new Map<K, V>();
  return (argument) => {
    const key = keyOf(argument);
    if (answers.has(key)) return answers.get(key)!;
    const answer = compute(argument);
    answers.set(key, answer);
    return answer;
  };
}
