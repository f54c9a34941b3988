import type { PythonLlmCall } from "./find-llm-calls.js";
import { fromImport, importedNames } from "./imports.js";
import { children, descendants, enclosingFunction, type PythonNode, type PythonSourceFile } from "./parse.js";
import { httpRows, isLlmApiUrl } from "./sdk-table.js";
import { stringValue, UNKNOWN } from "./string-value.js";

/** HTTP libraries whose module-level calls block the calling thread (the SDK table's general HTTP rows). */
const HTTP_MODULES = httpRows().flatMap((row) => row.packages);
/** Their sync clients, as a module holds one: `http = httpx.Client(...)`, `session = requests.Session()`. */
const SYNC_CLIENTS = new Set(httpRows().flatMap((row) => row.packages.flatMap((p) => row.clientClasses.map((c) => `${p}.${c}`))));
/** Their calls that send a request. */
const POST_METHODS = httpRows().flatMap((row) => row.calls.map((call) => call.path));
/** A name in the URL expression that says where it goes: `OLLAMA_URL`, `settings.openai_base_url`, `LLM_HOST`. */
const LLM_NAME = /(^|[^a-z])(openai|ollama|llm|anthropic)/i;
/**
 * Payload keys a model request has: `model` with `messages` or `prompt` (the OpenAI-compatible and
 * Ollama APIs both need the model). `model` alone is not enough: analytics events often carry the
 * model name (`{"event": "chat", "model": MODEL}`) and must stay untouched.
 */
const LLM_PAYLOAD_KEYS = new Set(["messages", "prompt"]);

/**
 * Blocking HTTP requests to an LLM API inside a function: `requests.post(...)`, `httpx.post(...)`
 * or `.post(...)` on a sync client held at module level, where the URL or the JSON payload says
 * it is a model call. In an `async def` each holds the event loop for the whole upstream call; in
 * a sync helper it makes the helper a wrapper, whose own callers are what block.
 */
export function findLlmHttpCalls(files: readonly PythonSourceFile[]): PythonLlmCall[] {
  const calls: PythonLlmCall[] = [];
  for (const file of files) {
    const posts = postFunctions(file);
    if (posts.size === 0) continue;
    for (const call of descendants(file.root, "call")) {
      const callee = call.childForFieldName("function")?.text ?? "";
      if (!posts.has(callee) || call.parent?.type === "await") continue;
      const fn = enclosingFunction(call);
      if (!fn || fn.type === "lambda" || !isLlmRequest(call, fn, file, files)) continue;
      calls.push({ file, call, callee, method: callee.split(".").at(-1)!, kind: "http", awaited: false });
    }
  }
  return calls;
}

/** The callees that send a blocking POST in this module: `requests.post`, `httpx.post`, `http.post` for a module-level client. */
function postFunctions(file: PythonSourceFile): Set<string> {
  const posts = new Set<string>();
  const imported = new Set<string>();
  for (const module of HTTP_MODULES) {
    const fromStatement = fromImport(file, module);
    for (const name of fromStatement ? importedNames(fromStatement) : []) imported.add(`${module}.${name}`);
    for (const statement of children(file.root).filter((s) => s.type === "import_statement")) {
      for (const name of children(statement)) {
        const local = name.text === module ? module : name.type === "aliased_import" && name.childForFieldName("name")?.text === module ? name.childForFieldName("alias")!.text : undefined;
        for (const method of local ? POST_METHODS : []) posts.add(`${local}.${method}`);
      }
    }
    for (const method of POST_METHODS) if (imported.has(`${module}.${method}`)) posts.add(method);
  }
  // Held at module level, or on `self` by a wrapper class (`self.http = httpx.Client(...)`).
  for (const assignment of descendants(file.root, "assignment")) {
    const target = assignment.childForFieldName("left");
    const value = assignment.childForFieldName("right");
    const held = target?.type === "identifier" ? !enclosingFunction(assignment) : target?.type === "attribute" && target.childForFieldName("object")?.text === "self";
    if (!held || value?.type !== "call") continue;
    const constructor = value.childForFieldName("function")!.text;
    const qualified = HTTP_MODULES.map((m) => `${m}.${constructor}`).find((q) => imported.has(q)) ?? constructor;
    for (const method of SYNC_CLIENTS.has(qualified) ? POST_METHODS : []) posts.add(`${target!.text}.${method}`);
  }
  return posts;
}

/**
 * Where the URL goes decides: a known LLM API (the SDK table's hosts and paths) is one; a URL the
 * code spells out in full that goes anywhere else (the project's own API, a webhook) is not, whatever
 * it posts. Only when the code does not say where it goes do its names and its payload decide.
 */
function isLlmRequest(call: PythonNode, fn: PythonNode, file: PythonSourceFile, files: readonly PythonSourceFile[]): boolean {
  const args = children(call.childForFieldName("arguments")!);
  const keyword = (name: string) => args.find((a) => a.type === "keyword_argument" && a.childForFieldName("name")?.text === name)?.childForFieldName("value");
  const urlNode = keyword("url") ?? args.find((a) => a.type !== "keyword_argument" && a.type !== "comment");
  const url = urlNode ? stringValue(urlNode, file, files) : UNKNOWN;
  if (isLlmApiUrl(url)) return true;
  if (!url.includes(UNKNOWN)) return false;
  const named = [urlNode, resolved(urlNode, fn)].flatMap((node) => (node ? [node, ...descendants(node, "identifier")] : []));
  if (named.some((id) => id.type === "identifier" && LLM_NAME.test(id.text))) return true;
  const payload = resolved(keyword("json"), fn);
  if (payload?.type !== "dictionary") return false;
  const keys = dictKeys(payload);
  return keys.includes("model") && keys.some((key) => LLM_PAYLOAD_KEYS.has(key));
}

/** A local name's value as last assigned in the function (`url = f"{OLLAMA_URL}/api/chat"`), else the expression itself. */
function resolved(expression: PythonNode | null | undefined, fn: PythonNode): PythonNode | undefined {
  if (!expression) return undefined;
  if (expression.type !== "identifier") return expression;
  const assigned = descendants(fn, "assignment")
    .filter((a) => a.childForFieldName("left")?.text === expression.text && a.startIndex < expression.startIndex)
    .at(-1);
  return assigned?.childForFieldName("right") ?? expression;
}

/** The string keys of a dict literal, unquoted. */
function dictKeys(dict: PythonNode): string[] {
  return children(dict)
    .filter((pair) => pair.type === "pair")
    .map((pair) => pair.childForFieldName("key"))
    .filter((key) => key?.type === "string")
    .map((key) => key!.text.replace(/^[rbu]*(["'])(.*)\1$/is, "$2"));
}
