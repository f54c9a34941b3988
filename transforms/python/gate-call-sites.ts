import { posix } from "node:path";
import type { PythonLlmCall } from "../../src/languages/python/find-llm-calls.js";
import { findUserKey } from "../../src/languages/python/find-user-key.js";
import { runtimeNamesTaken, serviceRoot } from "../../src/languages/python/runtime-home.js";
import { alwaysStreams } from "../../src/languages/python/sdk-table.js";
import {
  ancestors,
  children,
  decoratorsOf,
  enclosingFunction,
  enclosingStatement,
  indentationAt,
  isAsyncFunction,
  lineStartOf,
  TextEdits,
  type PythonNode,
} from "../../src/languages/python/parse.js";
import { reasons, type ReasonCode } from "../reasons.js";
import { finding, indentUnit, leftComment, relativePath, type PythonMigrationContext, type PythonTransform } from "./context.js";

type Decision = { reason: ReasonCode } | { replace: PythonNode; newPath: string; legacy: string; key?: string; usesAsyncio: boolean };

export const gateCallSites: PythonTransform = {
  name: "gate-call-sites",
  description:
    "Turns each blocking LLM call inside an `async def` (on the shared client or a local model, or an HTTP request to an LLM API) into `(new path) if use_new_llm_path(key=…) else (original call in a worker thread)`; leaves the rest with a reason.",
  run(context) {
    const analysis = context.analyse();
    const edits = new TextEdits();
    for (const migrated of analysis.migrated) {
      const at = migrated.conditional.startPosition;
      context.callSites.push({
        file: relativePath(context.input, migrated.file),
        line: at.row + 1,
        column: at.column + 1,
        callee: migrated.callee,
        state: "already-migrated",
        ...(migrated.key === undefined ? {} : { key: migrated.key }),
      });
    }
    for (const call of analysis.calls) {
      const decision = decide(call, context);
      const at = call.call.startPosition;
      const report = { file: relativePath(context.input, call.file), line: at.row + 1, column: at.column + 1, callee: call.callee };
      if ("reason" in decision) {
        context.callSites.push({ ...report, state: "left", reason: decision.reason, message: reasons[decision.reason].message });
        addLeftComment(edits, call, decision.reason);
        continue;
      }
      // No key: every caller hashes alike (one canary bucket), so the report shows the key as absent.
      context.callSites.push({ ...report, state: "rewritten", ...(decision.key === undefined ? {} : { key: decision.key }) });
      const condition = `use_new_llm_path(key=${decision.key ?? "None"})`;
      edits.replace(call.file, decision.replace.startIndex, decision.replace.endIndex, conditional(call, decision.replace, decision.newPath, condition, decision.legacy));
      context.needsImports(call.file, { runtime: ["get_async_llm_client", "use_new_llm_path"], asyncio: decision.usesAsyncio });
    }
    edits.apply();
    const byAddress = context.callSites.find((site) => site.state === "rewritten" && site.key !== undefined && isClientAddress(site.key));
    if (byAddress) context.findings.push(finding("CANARY_KEY_CLIENT_ADDRESS", "warning", { file: byAddress.file, line: byAddress.line }));
  },
};

/** `request.client.host if request.client else None` (FastAPI), `request.remote` (aiohttp): a key that says where, not who. */
function isClientAddress(key: string): boolean {
  return /\.client\.host\b|\.remote$/.test(key);
}

function decide(call: PythonLlmCall, context: PythonMigrationContext): Decision {
  if (call.client?.perRequestCredential) return { reason: "PER_REQUEST_CREDENTIAL" };
  const fn = enclosingFunction(call.call);
  if (!fn) return { reason: "TOP_LEVEL" };
  if (fn.type === "lambda") return { reason: "SYNC_CALLBACK" };
  if (!isAsyncFunction(fn)) return { reason: decoratorsOf(fn).length > 0 && isRoute(fn) ? "PY_SYNC_ROUTE" : "SYNC_CALLER" };
  if (runtimeNamesTaken(context.runtimeDir).length > 0) return { reason: "PY_RUNTIME_NAME_TAKEN" };
  const root = context.input.rootDir;
  if (serviceRoot(posix.dirname(call.file.getFilePath()), root) !== serviceRoot(context.runtimeDir, root)) return { reason: "PY_OTHER_SERVICE" };
  if (underLock(call.call, fn)) return { reason: "PY_THREAD_LOCK" };
  const args = children(call.call.childForFieldName("arguments")!);
  const argsText = argumentsText(call.call);
  const analysis = context.analyse();
  const key = findUserKey(fn, analysis.files, analysis.framework && ((handler) => analysis.framework!.clientAddress(handler)));
  const receiver = call.callee.slice(0, call.callee.length - call.method.length - 1);
  const streams =
    alwaysStreams(call.sdkCall) ||
    args.some((a) => a.type === "keyword_argument" && a.childForFieldName("name")?.text === "stream" && a.childForFieldName("value")?.text !== "False");
  if (streams) return { reason: "PY_STREAMING" };
  const withArgs = argsText ? `${call.callee}, ${argsText}` : call.callee;
  if (call.kind === "sdk") {
    // The runtime retries; the SDK's own retries would stack on top of them. A pre-1.0 module
    // call has no client to set them on.
    const target = call.client ? `${receiver}.with_options(max_retries=0).${call.method}` : call.callee;
    if (call.awaited || call.client?.isAsync) {
      if (!call.awaited) return { reason: "SYNC_CALLER" };
      return { replace: call.call.parent!, newPath: `await get_async_llm_client().run(${target}, ${argsText})`, legacy: call.call.parent!.text, key, usesAsyncio: false };
    }
    return {
      replace: call.call,
      newPath: `await get_async_llm_client().run_sync(${target}, ${argsText})`,
      legacy: `await asyncio.to_thread(${withArgs})`,
      key,
      usesAsyncio: true,
    };
  }
  // A wrapper, a local model or an HTTP request runs as written on both paths: the new path only
  // bounds it (the guide's asyncio.to_thread fallback inside the gate), so the model, endpoint and
  // options stay the user's. An awaited wrapper is already a coroutine function.
  if (call.awaited) {
    return { replace: call.call.parent!, newPath: `await get_async_llm_client().run(${withArgs})`, legacy: call.call.parent!.text, key, usesAsyncio: false };
  }
  return {
    replace: call.call,
    newPath: `await get_async_llm_client().run_sync(${withArgs})`,
    legacy: `await asyncio.to_thread(${withArgs})`,
    key,
    usesAsyncio: true,
  };
}

function isRoute(fn: PythonNode): boolean {
  return decoratorsOf(fn).some((d) => /^\w+\.(get|post|put|patch|delete|options|head|api_route|websocket)\(/.test(d.text));
}

/** Inside `with <lock>:` where the lock is a `threading.Lock` (or named like one). */
function underLock(call: PythonNode, fn: PythonNode): boolean {
  return ancestors(call)
    .filter((a) => a.startIndex >= fn.startIndex && a.type === "with_statement")
    .some((w) => /lock|mutex/i.test(w.childForFieldName("body") ? w.text.slice(0, w.text.indexOf(":")) : ""));
}

/** The arguments as written, without the parentheses, on one line when they fit on one. */
function argumentsText(call: PythonNode): string {
  const list = call.childForFieldName("arguments")!;
  const args = children(list).filter((c) => c.type !== "comment");
  const oneLine = args.map((a) => a.text).join(", ");
  return args.some((a) => a.text.includes("\n")) || list.text.includes("#") ? list.text.slice(1, -1).trim().replace(/,$/, "") : oneLine;
}

/**
 * A whole assignment, return or expression statement gets the multi-line form runtime/python/README.md
 * shows; a call nested in a larger expression gets the one-line form.
 */
function conditional(call: PythonLlmCall, replaced: PythonNode, newPath: string, condition: string, legacy: string): string {
  const statement = enclosingStatement(replaced);
  const text = call.file.getFullText();
  const first = children(statement)[0];
  const same = (node: PythonNode | null | undefined) => node?.startIndex === replaced.startIndex && node.endIndex === replaced.endIndex;
  const whole =
    (statement.type === "return_statement" && same(first)) ||
    (statement.type === "expression_statement" && (same(first) || (first?.type === "assignment" && same(first.childForFieldName("right")))));
  const sameLine = !text.slice(statement.startIndex, replaced.startIndex).includes("\n");
  if (!whole || !sameLine) return `(${newPath} if ${condition} else ${legacy})`;
  const indent = indentationAt(text, statement.startIndex);
  const inner = indent + indentUnit(call.file);
  return `(\n${inner}${newPath}\n${inner}if ${condition}\n${inner}else ${legacy}\n${indent})`;
}

function addLeftComment(edits: TextEdits, call: PythonLlmCall, reason: ReasonCode): void {
  const text = call.file.getFullText();
  const statement = enclosingStatement(call.call);
  const lineStart = lineStartOf(text, statement.startIndex);
  const comment = leftComment(reason);
  const previousLine = text.slice(lineStartOf(text, lineStart - 1), Math.max(lineStart - 1, 0)).trim();
  if (previousLine === comment) return;
  edits.insert(call.file, lineStart, `${indentationAt(text, lineStart)}${comment}\n`);
}
