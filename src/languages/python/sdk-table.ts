import { LLM_HTTP_APIS, sdkRows, type SdkCall, type SdkRow } from "../sdks.js";
import { UNKNOWN } from "./string-value.js";
import { children, descendants, type PythonNode, type PythonSourceFile } from "./parse.js";

/** The Python rows of the one SDK table: detection reads SDK names from here, never from lists of its own. */
const ROWS = sdkRows("python");

/** Rows whose clients are ordinary SDK clients (not a general HTTP client, not a model run in-process). */
const SDK_ROWS = ROWS.filter((row) => !row.generalHttp && !row.runsLocally);

/** What a construction or a module makes: the row, and whether it is the SDK's async client. */
export interface SdkClientClass {
  row: SdkRow;
  isAsync: boolean;
}

/** The packages a file imports, by top-level module: `openai` for `import openai`, `from openai import OpenAI` or `import openai.types`. */
export function importedPackages(file: PythonSourceFile): Set<string> {
  const packages = new Set<string>();
  for (const statement of children(file.root)) {
    if (statement.type === "import_from_statement") {
      const module = statement.childForFieldName("module_name")?.text ?? "";
      if (!module.startsWith(".")) packages.add(module.split(".")[0]!);
    } else if (statement.type === "import_statement") {
      for (const name of children(statement)) {
        const dotted = name.type === "aliased_import" ? name.childForFieldName("name")?.text : name.text;
        if (dotted) packages.add(dotted.split(".")[0]!);
      }
    }
  }
  return packages;
}

/**
 * The SDK client a call constructs (`OpenAI(...)`, `anthropic.AsyncAnthropic(...)`), when the file
 * imports the row's package; undefined for anything else.
 */
export function sdkClientClass(call: PythonNode, packages: ReadonlySet<string>): SdkClientClass | undefined {
  const fn = call.childForFieldName("function");
  const name = (fn?.type === "attribute" ? fn.childForFieldName("attribute") : fn)?.text ?? "";
  const row = SDK_ROWS.find((r) => r.clientClasses.includes(name) && r.packages.some((p) => packages.has(p)));
  if (row && GENERIC_NAMES.has(name) && !fromRow(call, fn, name, row)) return undefined;
  return row && { row, isAsync: name.startsWith("Async") };
}

/** Class names other libraries use too (`httpx.AsyncClient`): an SDK's only when taken from its package. */
const GENERIC_NAMES = new Set(["Client", "AsyncClient"]);

/** `openai.AsyncClient(...)`, or `AsyncClient(...)` in a module that has `from openai import AsyncClient`. */
function fromRow(call: PythonNode, fn: PythonNode | null, name: string, row: SdkRow): boolean {
  if (fn?.type === "attribute") return row.packages.includes(fn.childForFieldName("object")?.text ?? "");
  let root = call;
  while (root.parent) root = root.parent;
  return descendants(root, "import_from_statement").some(
    (statement) => row.packages.includes(statement.childForFieldName("module_name")?.text ?? "") && children(statement).slice(1).some((n) => n.text === name),
  );
}

/** Rows whose module is itself the client before a version (`openai.ChatCompletion.create` before openai 1.0). */
export function moduleClientRows(packages: ReadonlySet<string>): SdkRow[] {
  return SDK_ROWS.filter((row) => row.clientExports?.some((name) => row.packages.includes(name) && packages.has(name)));
}

/** The call of a row that a path after the client names (`chat.completions.create`); undefined when the path is not a network call. */
export function sdkCallAt(row: SdkRow, path: string): SdkCall | undefined {
  return row.calls.find((call) => call.path === path);
}

/** Whether a call streams by itself, whatever its arguments (`messages.stream(...)`). */
export function alwaysStreams(call: SdkCall | undefined): boolean {
  return call?.stream?.when === "always";
}

/** The model runners of the table: classes (`Llama`) and factories (`pipeline`), with their rows. */
export function localModelRows(): readonly SdkRow[] {
  return ROWS.filter((row) => row.runsLocally);
}

/** The general HTTP clients of the table: their modules (`requests`, `httpx`) and client classes (`Session`, `Client`). */
export function httpRows(): readonly SdkRow[] {
  return ROWS.filter((row) => row.generalHttp);
}

/**
 * Whether a URL (as stringValue reads it, UNKNOWN where the code does not say) reaches an LLM API of
 * the table: a known host, an OpenAI-compatible path on any host, or Ollama's paths on its port, on a
 * host named for it, or on a host the code does not say.
 */
export function isLlmApiUrl(url: string): boolean {
  const authority = /^[a-z]+:\/\/([^/]*)/i.exec(url)?.[1];
  const host = authority?.replace(/:\d+$/, "").toLowerCase();
  if (host && !host.includes(UNKNOWN) && LLM_HTTP_APIS.hosts.some((known) => (known.startsWith(".") ? host.endsWith(known) : host === known))) return true;
  if (LLM_HTTP_APIS.paths.some((path) => url.includes(path))) return true;
  const { ollama } = LLM_HTTP_APIS;
  if (url.includes(`:${ollama.port}`)) return true;
  const hostUnknown = authority === undefined || authority.includes(UNKNOWN);
  return ollama.paths.some((path) => new RegExp(`${path}\\b`).test(url)) && (hostUnknown || host!.includes(ollama.host));
}
