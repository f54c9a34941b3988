import type { SdkRow } from "../sdks.js";
import { ancestors, children, descendants, enclosingFunction, type PythonNode, type PythonSourceFile } from "./parse.js";
import { takesRequestCredential } from "./find-credential.js";
import { definitionOf } from "./imports.js";
import { importedPackages, localModelRows, sdkClientClass } from "./sdk-table.js";

/** Words in a class or variable name that say "this is the LLM client", for wrapper classes defined outside the tree. */
const LLM_WORDS = /llm|openai|gpt|chat|completion|model|assistant|ollama|anthropic|claude|gemini/i;
/** Classes that are never the LLM client even when the variable name says so. */
const NOT_LLM_CLASSES = new Set(["FastAPI", "APIRouter", "Lock", "RLock", "Semaphore", "Client", "AsyncClient", "Session", "BaseModel", "Request", "Application"]);

/** How the rest of the app reaches a client. */
export type ClientAccess =
  /** A module-level name, or one assigned through `global` in a startup hook or lifespan. */
  | { kind: "name"; name: string }
  /** An attribute of the app's state (`app.state.llm_client`, read as `request.app.state.llm_client`). */
  | { kind: "state"; attribute: string }
  /** An attribute set on `self` in a class (`self.client = OpenAI()`), reached by that class's methods. */
  | { kind: "self"; cls: PythonNode; attribute: string }
  /** A local name in one function: a client built per request (`client = OpenAI(...)` in a handler). */
  | { kind: "local"; fn: PythonNode; name: string };

export interface PythonLlmClient {
  file: PythonSourceFile;
  /** The statement that builds it (`llm_client = LlmClient()` or `app.state.llm_client = LlmClient()`). */
  declaration: PythonNode;
  /** As written where it is used: `llm_client`, `app.state.llm_client`, `self.client`. */
  name: string;
  access: ClientAccess;
  /** "model" for a local model called in-process (llama_cpp's `Llama`, a transformers `pipeline`). */
  kind: "sdk" | "wrapper" | "model";
  constructedWith: string;
  /** An `AsyncOpenAI`-style client whose calls already return awaitables. */
  isAsync: boolean;
  /** The SDK table's row, for an SDK client or a local model. */
  row?: SdkRow;
  /** A client built per request from the request's own credential: its calls are left by design. */
  perRequestCredential?: boolean;
}

/** A project class (any name) whose methods make LLM calls: its name and those methods. */
export type WrapperClasses = ReadonlyMap<string, ReadonlySet<string>>;

export interface PythonClientDetection {
  clients: PythonLlmClient[];
  /** SDK clients built inside a function for one request from the request's own credential: left as they are. */
  perRequest: { file: PythonSourceFile; construction: PythonNode }[];
}

/**
 * The long-lived LLM clients of the app: SDK clients and local models from the SDK table, and,
 * when `wrappers` is given, instances of wrapper classes (project classes whose methods make LLM
 * calls, whatever their name, or classes from elsewhere named like an LLM client). Module-level,
 * assigned via `global` in a startup hook or lifespan, kept on `app.state`, or held on `self`.
 */
export function findLlmClients(files: readonly PythonSourceFile[], settings: { client?: string }, wrappers?: WrapperClasses): PythonClientDetection {
  const clients: PythonLlmClient[] = [];
  const perRequest: PythonClientDetection["perRequest"] = [];
  for (const file of files) {
    for (const assignment of descendants(file.root, "assignment")) {
      const target = assignment.childForFieldName("left");
      const source = constructionOf(assignment.childForFieldName("right"), file, files);
      if (!target || !source) continue;
      const value = source.call;
      const built = whatItBuilds(value, importedPackages(source.file), wrappers, target.text);
      const named = settings.client !== undefined && (target.text === settings.client || target.text.endsWith(`.${settings.client}`));
      // --client names the one client to migrate; a wrapper is only looked for once wrappers are known.
      if (settings.client !== undefined ? !named : !built) continue;
      if (!built && !wrappers) continue;
      let access = accessOf(target, assignment);
      const fn = enclosingFunction(assignment);
      // Built for one request: its calls in the function are found too, then gated or, on the caller's own key, left.
      const perRequestCredential = !access && built?.kind === "sdk" && takesRequestCredential(value);
      // A project wrapper built per request (`service = ChatService()` in a handler) makes the same blocking calls.
      const perRequestBuilt = built?.kind === "sdk" || (built?.kind === "wrapper" && wrappers?.has(built.constructedWith) === true);
      if (!access && perRequestBuilt && fn?.type === "function_definition" && target.type === "identifier" && !handedOn(assignment)) {
        access = { kind: "local", fn, name: target.text };
        if (perRequestCredential) perRequest.push({ file, construction: value });
      }
      else if (!access && built?.kind === "sdk" && fn && !handedOn(assignment)) perRequest.push({ file, construction: value });
      if (!access) continue;
      const name = access.kind === "name" || access.kind === "local" ? access.name : access.kind === "state" ? `app.state.${access.attribute}` : `self.${access.attribute}`;
      if (clients.some((c) => c.name === name && sameScope(c, file, access))) continue;
      clients.push({
        file,
        declaration: assignment.parent ?? assignment,
        name,
        access,
        kind: built?.kind ?? "wrapper",
        constructedWith: built?.constructedWith ?? calleeName(value),
        isAsync: built?.isAsync ?? false,
        ...(built?.row ? { row: built.row } : {}),
        ...(perRequestCredential ? { perRequestCredential } : {}),
      });
    }
  }
  return { clients, perRequest };
}

/**
 * The call that builds what an assignment's value holds: the call itself (`OpenAI(...)`), through
 * `await`, a local name assigned earlier in the function (`client = OpenAI(...)` then
 * `app.state.client = client`), or a project factory that returns one (`app.state.llm = await
 * init_openai(app)` where `init_openai` returns `OpenAI(...)`), with the file it is written in.
 */
function constructionOf(
  value: PythonNode | null | undefined,
  file: PythonSourceFile,
  files: readonly PythonSourceFile[],
  depth = 0,
): { call: PythonNode; file: PythonSourceFile } | undefined {
  if (!value || depth > 4) return undefined;
  if (value.type === "await") return constructionOf(children(value)[0], file, files, depth + 1);
  if (value.type === "identifier") {
    const fn = enclosingFunction(value);
    const assigned = fn && descendants(fn, "assignment").filter((a) => a.childForFieldName("left")?.text === value.text && a.endIndex <= value.startIndex).at(-1);
    return assigned ? constructionOf(assigned.childForFieldName("right"), file, files, depth + 1) : undefined;
  }
  if (value.type !== "call") return undefined;
  const packages = importedPackages(file);
  if (sdkClientClass(value, packages) || localModel(value)) return { call: value, file };
  const callee = value.childForFieldName("function");
  const factory = callee?.type === "identifier" ? definitionOf(file, callee.text, files) : undefined;
  if (factory?.node.type === "function_definition") {
    for (const returned of descendants(factory.node, "return_statement")) {
      const made = constructionOf(children(returned)[0], factory.file, files, depth + 1);
      if (made && (sdkClientClass(made.call, importedPackages(made.file)) || localModel(made.call))) return made;
    }
  }
  return { call: value, file };
}

/** Whether a client built into a local name is handed on: kept on `app.state` or `self`, made global, returned or yielded (a factory, a lifespan). */
function handedOn(assignment: PythonNode): boolean {
  const target = assignment.childForFieldName("left");
  const fn = enclosingFunction(assignment);
  if (target?.type !== "identifier" || !fn) return false;
  const name = target.text;
  const storedElsewhere = descendants(fn, "assignment").some((a) => a.childForFieldName("right")?.text === name && a.childForFieldName("left")?.type === "attribute");
  const returned = descendants(fn, "return_statement", "yield").some((r) => children(r)[0]?.text === name);
  return storedElsewhere || returned;
}

/** One client per app.state attribute, per module-level name in a module, per attribute of a class. */
function sameScope(client: PythonLlmClient, file: PythonSourceFile, access: ClientAccess): boolean {
  if (access.kind === "state") return true;
  if (access.kind === "self") return client.access.kind === "self" && client.access.cls.equals(access.cls);
  if (access.kind === "local") return client.access.kind === "local" && client.access.fn.equals(access.fn);
  return client.file === file;
}

function whatItBuilds(
  value: PythonNode,
  packages: ReadonlySet<string>,
  wrappers: WrapperClasses | undefined,
  target: string,
): { kind: PythonLlmClient["kind"]; constructedWith: string; isAsync: boolean; row?: SdkRow } | undefined {
  const sdk = sdkClientClass(value, packages);
  if (sdk) return { kind: "sdk", constructedWith: calleeName(value), isAsync: sdk.isAsync, row: sdk.row };
  const model = localModel(value);
  if (model) return { kind: "model", constructedWith: model.name, isAsync: false, row: model.row };
  if (!wrappers) return undefined;
  const name = calleeName(value);
  if (wrappers.has(name)) return { kind: "wrapper", constructedWith: name, isAsync: false };
  const looksLikeLlm = /^[A-Z]/.test(name) && !NOT_LLM_CLASSES.has(name) && (LLM_WORDS.test(name) || LLM_WORDS.test(target));
  return looksLikeLlm ? { kind: "wrapper", constructedWith: name, isAsync: false } : undefined;
}

/**
 * A model run in-process, from the table: a class (`Llama(...)`, `Llama.from_pretrained(...)`) or a
 * factory (`pipeline("text-generation", ...)`). Other pipeline tasks (classifiers, embedders) are
 * not the LLM.
 */
function localModel(call: PythonNode): { name: string; row: SdkRow } | undefined {
  const fn = (call.childForFieldName("function")?.text ?? "").replace(/\.from_pretrained$/, "");
  const name = fn.split(".").at(-1)!;
  for (const row of localModelRows()) {
    if (row.clientClasses.includes(name)) return { name, row };
    if (!row.clientExports?.includes(name)) continue;
    const args = children(call.childForFieldName("arguments")!);
    const task = args.find((a) => a.type === "keyword_argument" && a.childForFieldName("name")?.text === "task")?.childForFieldName("value") ?? args[0];
    if (task?.type === "string" && /generation|conversational|summari[sz]ation|translation/.test(task.text)) return { name, row };
  }
  return undefined;
}

/** `LlmClient` for `LlmClient(...)`, `OpenAI` for `openai.OpenAI(...)`, `learning_plannner` for `learning_plannner()`. */
function calleeName(call: PythonNode): string {
  const fn = call.childForFieldName("function");
  return ((fn?.type === "attribute" ? fn.childForFieldName("attribute") : fn)?.text ?? "").trim();
}

/** How the rest of the app reaches an assigned client, or undefined when the assignment is local to one call. */
function accessOf(target: PythonNode, assignment: PythonNode): ClientAccess | undefined {
  if (target.type === "attribute") {
    const object = target.childForFieldName("object");
    const attribute = target.childForFieldName("attribute");
    if (!attribute) return undefined;
    if (object?.type === "attribute" && object.childForFieldName("attribute")?.text === "state") return { kind: "state", attribute: attribute.text };
    const cls = ancestors(assignment).find((a) => a.type === "class_definition");
    if (object?.text === "self" && cls) return { kind: "self", cls, attribute: attribute.text };
    return undefined;
  }
  if (target.type !== "identifier") return undefined;
  const fn = enclosingFunction(assignment);
  if (!fn) return ancestors(assignment).some((a) => a.type === "class_definition") ? undefined : { kind: "name", name: target.text };
  const declaredGlobal = descendants(fn, "global_statement").some((g) => children(g).some((n) => n.text === target.text));
  return declaredGlobal ? { kind: "name", name: target.text } : undefined;
}
