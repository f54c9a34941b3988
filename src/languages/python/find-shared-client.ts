import { ancestors, children, descendants, enclosingFunction, type PythonNode, type PythonSourceFile } from "./parse.js";

/** OpenAI's Python SDK clients: calls on them are SDK calls (`client.chat.completions.create`). */
const SDK_CLASSES = new Set(["OpenAI", "AsyncOpenAI", "AzureOpenAI", "AsyncAzureOpenAI"]);
const ASYNC_SDK_CLASSES = new Set(["AsyncOpenAI", "AsyncAzureOpenAI"]);
/** Words in a class or variable name that say "this is the LLM client". */
const LLM_WORDS = /llm|openai|gpt|chat|completion|model|assistant|ollama|anthropic|claude|gemini/i;
/** Classes that are never the LLM client even when the variable name says so. */
const NOT_LLM_CLASSES = new Set(["FastAPI", "APIRouter", "Lock", "RLock", "Semaphore", "Client", "AsyncClient", "Session", "BaseModel", "Request"]);

export interface PythonSharedClient {
  file: PythonSourceFile;
  /** The statement that builds it (`llm_client = LlmClient()` or `app.state.llm_client = LlmClient()`). */
  declaration: PythonNode;
  /** As written where it is used: `llm_client`, or `app.state.llm_client`. */
  name: string;
  /** A module-level name, or an attribute of FastAPI's `app.state`. */
  access: { kind: "name"; name: string } | { kind: "state"; attribute: string };
  /** "model" for a local model called in-process (llama_cpp's `Llama`, a transformers `pipeline`). */
  kind: "sdk" | "wrapper" | "model";
  constructedWith: string;
  /** An `AsyncOpenAI`-style client whose calls already return awaitables. */
  isAsync: boolean;
}

export interface PythonClientDetection {
  client?: PythonSharedClient;
  others: PythonSharedClient[];
  /** SDK clients built inside a function for one request: not shared, left as they are. */
  perRequest: { file: PythonSourceFile; construction: PythonNode }[];
}

/** The one long-lived LLM client of the app: module-level, assigned via `global` in a startup hook or lifespan, or kept on `app.state`. */
export function findSharedClient(files: readonly PythonSourceFile[], settings: { client?: string }): PythonClientDetection {
  const found: PythonSharedClient[] = [];
  const perRequest: PythonClientDetection["perRequest"] = [];
  for (const file of files) {
    for (const assignment of descendants(file.root, "assignment")) {
      const target = assignment.childForFieldName("left");
      const value = assignment.childForFieldName("right");
      if (!target || value?.type !== "call") continue;
      const model = localModel(value);
      const constructedWith = model ?? className(value);
      if (!constructedWith) continue;
      const named = settings.client !== undefined && (target.text === settings.client || target.text.endsWith(`.${settings.client}`));
      const sdk = SDK_CLASSES.has(constructedWith);
      const looksLikeLlm = sdk || model !== undefined || (!NOT_LLM_CLASSES.has(constructedWith) && (LLM_WORDS.test(constructedWith) || LLM_WORDS.test(target.text)));
      if (!named && (!looksLikeLlm || settings.client !== undefined)) continue;
      const access = accessOf(target, assignment);
      if (!access) {
        if (sdk && enclosingFunction(assignment)) perRequest.push({ file, construction: value });
        continue;
      }
      const name = access.kind === "name" ? access.name : `app.state.${access.attribute}`;
      if (found.some((c) => c.name === name)) continue;
      found.push({
        file,
        declaration: assignment.parent ?? assignment,
        name,
        access,
        kind: sdk ? "sdk" : model ? "model" : "wrapper",
        constructedWith,
        isAsync: ASYNC_SDK_CLASSES.has(constructedWith),
      });
    }
  }
  const [client, ...others] = found;
  return { client, others, perRequest };
}

/**
 * `Llama` for llama_cpp's `Llama(model_path=...)` or `Llama.from_pretrained(...)`, `pipeline` for a
 * transformers `pipeline("text-generation", ...)`; undefined for anything else. Other pipeline tasks
 * (classifiers, embedders) are not the LLM, and must not displace the real client as the first found.
 */
function localModel(call: PythonNode): string | undefined {
  const fn = call.childForFieldName("function")?.text ?? "";
  if (/(^|\.)Llama(\.from_pretrained)?$/.test(fn)) return "Llama";
  if (!/(^|\.)pipeline$/.test(fn)) return undefined;
  const args = children(call.childForFieldName("arguments")!);
  const task = args.find((a) => a.type === "keyword_argument" && a.childForFieldName("name")?.text === "task")?.childForFieldName("value") ?? args[0];
  return task?.type === "string" && /generation|conversational|summari[sz]ation|translation/.test(task.text) ? "pipeline" : undefined;
}

/** `LlmClient` for `LlmClient(...)`, `OpenAI` for `openai.OpenAI(...)`; undefined for a call that is not a class. */
function className(call: PythonNode): string | undefined {
  const fn = call.childForFieldName("function");
  const last = fn?.type === "attribute" ? fn.childForFieldName("attribute") : fn;
  return last?.type === "identifier" && /^[A-Z]/.test(last.text) ? last.text : undefined;
}

/** How the rest of the app reaches an assigned client, or undefined when the assignment is local to one call. */
function accessOf(target: PythonNode, assignment: PythonNode): PythonSharedClient["access"] | undefined {
  if (target.type === "attribute") {
    const object = target.childForFieldName("object");
    const attribute = target.childForFieldName("attribute");
    if (object?.type === "attribute" && object.childForFieldName("attribute")?.text === "state" && attribute) {
      return { kind: "state", attribute: attribute.text };
    }
    return undefined;
  }
  if (target.type !== "identifier") return undefined;
  const fn = enclosingFunction(assignment);
  if (!fn) return ancestors(assignment).some((a) => a.type === "class_definition") ? undefined : { kind: "name", name: target.text };
  const declaredGlobal = descendants(fn, "global_statement").some((g) => children(g).some((n) => n.text === target.text));
  return declaredGlobal ? { kind: "name", name: target.text } : undefined;
}
