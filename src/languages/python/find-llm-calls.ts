import type { PythonSharedClient } from "./find-shared-client.js";
import { children, descendants, enclosingFunction, type PythonNode, type PythonSourceFile } from "./parse.js";

/** SDK methods that make one upstream call, as attribute paths after the client. */
const SDK_METHODS = ["chat.completions.create", "responses.create", "completions.create"];
/** Wrapper methods that ask the model for a reply, when the user does not name one with --method. */
const WRAPPER_METHOD = /generate|complet|chat|ask|respon|reply|answer|invoke|predict|summar/i;
/** Calls on a local model that run it: the model itself (`llm(prompt)`, `generator(prompt)`) and llama_cpp's completion methods. */
const LOCAL_MODEL_METHODS = ["", "create_chat_completion", "create_completion"];

/**
 * What the call reaches, which decides its rewrite: an SDK method, a wrapper method, a local model
 * run in-process, or a blocking HTTP request to an LLM API (`requests.post`, `httpx.post`).
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
}

/** A call site the migration already rewrote: `(new path) if use_new_llm_path(...) else (original)`. */
export interface PythonMigratedCall {
  file: PythonSourceFile;
  conditional: PythonNode;
  callee: string;
  /** The `key=` of its condition; undefined for `key=None`. */
  key?: string;
}

/** Every call on the shared client, in every file that can reach it. */
export function findLlmCalls(files: readonly PythonSourceFile[], client: PythonSharedClient, method?: string): PythonLlmCall[] {
  const calls: PythonLlmCall[] = [];
  for (const file of files) {
    const reachesByName = client.access.kind === "name" && (file === client.file || importsName(file, client.access.name));
    for (const call of descendants(file.root, "call")) {
      const fn = call.childForFieldName("function");
      if (fn?.type !== "attribute" && fn?.type !== "identifier") continue;
      const match = splitClientCall(fn.text, client, reachesByName, aliasesIn(call, client));
      if (match === undefined) continue;
      const gated =
        client.kind === "sdk"
          ? SDK_METHODS.includes(match)
          : client.kind === "model"
            ? LOCAL_MODEL_METHODS.includes(match)
            : method
              ? match === method
              : match !== "" && !match.includes(".") && WRAPPER_METHOD.test(match);
      if (!gated) continue;
      calls.push({ file, call, callee: fn.text, method: match, kind: client.kind, awaited: call.parent?.type === "await" });
    }
  }
  return calls;
}

/** The method part of `receiver.method` when the receiver is the shared client; "" when the client itself is called. */
function splitClientCall(callee: string, client: PythonSharedClient, reachesByName: boolean, aliases: Set<string>): string | undefined {
  const receivers = [...aliases];
  if (client.access.kind === "name" && reachesByName) receivers.push(client.access.name);
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

/** Local names bound to an `app.state` client in the function around a call (`client = request.app.state.llm_client`). */
function aliasesIn(call: PythonNode, client: PythonSharedClient): Set<string> {
  const aliases = new Set<string>();
  const fn = enclosingFunction(call);
  if (!fn || client.access.kind !== "state") return aliases;
  for (const assignment of descendants(fn, "assignment")) {
    const left = assignment.childForFieldName("left");
    const right = assignment.childForFieldName("right");
    if (left?.type === "identifier" && right?.text.endsWith(`.state.${client.access.attribute}`)) aliases.add(left.text);
  }
  return aliases;
}

function importsName(file: PythonSourceFile, name: string): boolean {
  return descendants(file.root, "import_from_statement").some((statement) =>
    children(statement).slice(1).some((imported) => (imported.type === "aliased_import" ? imported.childForFieldName("name")?.text : imported.text) === name),
  );
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
