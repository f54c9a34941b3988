import { Node, SyntaxKind } from "./ts-morph.js";
import type { CallExpression, SourceFile } from "ts-morph";
import type { SdkCall, SdkRow } from "../sdks.js";
import { isClientExpression, type ClientBindings } from "./client-bindings.js";
import { skipWrappers } from "./client-holders.js";
import type { SharedClient } from "./client.js";
import type { TypedSdkCall } from "./calls-by-type.js";
import { findChildProcessCalls } from "./find-child-process.js";
import { httpLlmCall } from "./find-http-calls.js";
import { mayBeDeclaredAs } from "./name-test.js";
import { sdkFreeFunction } from "./sdk-imports.js";

/** One call that reaches a model. */
export interface LlmCall {
  call: CallExpression;
  /** The callee as written, whitespace removed: `llmClient.generateResponse`, `openai.chat.completions.create`. */
  callee: string;
  /**
   * "wrapper" for the project wrapper's method, "sdk" for an SDK request, "process" for a
   * blocking child process that runs a model client (`execSync("ollama run …")`).
   */
  api: "wrapper" | "sdk" | "process";
  /** SDK calls: the table row and the call it matched. */
  row?: SdkRow;
  sdkCall?: SdkCall;
  /** `client[name](...)`: which method runs is only known at run time. */
  dynamic: boolean;
  /** Streams, by its `stream: true` argument or by what the call is. */
  streaming: boolean;
  /** Returns the stream itself, not a promise (`chat.completions.stream()`, `streamText()`). */
  streamHelper: boolean;
  /** A stream whose end the runtime cannot see (an axios response, the `ai` package's result object). */
  streamEndUnseen: boolean;
  /** Made on a client built from the request's own credential: left alone by design. */
  perRequestCredential: boolean;
}

/** A client and every way the project reaches it. */
export interface ClientReach {
  client: SharedClient;
  bindings: ClientBindings;
  /** Built from the request's own credential: its calls are found but left alone. */
  perRequestCredential?: boolean;
}

const DERIVATION_DEPTH = 6;
const VARIABLES = [SyntaxKind.VariableDeclaration];

/**
 * Every LLM call: calls on each client, the SDKs' free functions, blocking model processes
 * outside a wrapper, and the SDK calls the type checker resolved (`typed`) that the search by
 * syntax did not follow to a client.
 */
export function findLlmCalls(files: readonly SourceFile[], reaches: readonly ClientReach[], typed: readonly TypedSdkCall[] = []): LlmCall[] {
  const calls: LlmCall[] = [];
  const seen = new Set<CallExpression>();
  const wrapperClass = reaches.find((r) => r.client.kind === "wrapper")?.client.wrapperClass;
  const insideWrapper = (node: Node) => wrapperClass !== undefined && wrapperClass.getPos() <= node.getPos() && node.getEnd() <= wrapperClass.getEnd();
  const add = (found: LlmCall) => {
    if (seen.has(found.call)) return;
    seen.add(found.call);
    calls.push(found);
  };
  for (const file of files) {
    for (const call of file.getDescendantsOfKind(SyntaxKind.CallExpression)) {
      for (const reach of reaches) {
        const found = reach.client.kind === "wrapper" ? wrapperCall(call, reach) : sdkCall(call, reach);
        if (found) add(found);
      }
      const free = freeFunctionCall(call);
      if (free) add(free);
      // The wrapper's own request is reached through the wrapper's gated call sites.
      const http = insideWrapper(call) ? undefined : httpLlmCall(call);
      if (http) add({ ...base(call, false), api: "sdk", row: http.row, sdkCall: http.sdkCall, streaming: http.streaming, streamEndUnseen: http.streaming });
    }
    for (const process of findChildProcessCalls(file)) {
      if (!process.blocking || !process.callsModel || insideWrapper(process.call)) continue;
      add({ ...base(process.call, false), api: "process" });
    }
  }
  for (const { call, row, sdkCall } of typed) {
    if (seen.has(call) || insideWrapper(call)) continue;
    const callee = call.getExpression();
    const receiver = Node.isPropertyAccessExpression(callee) ? callee.getExpression() : callee;
    const perRequest = reaches.some((r) => r.perRequestCredential && derivationOf(receiver, r.bindings, 0) !== undefined);
    add(withStream({ ...base(call, perRequest), api: "sdk", row, sdkCall }));
  }
  return calls;
}

function base(call: CallExpression, perRequestCredential: boolean): Omit<LlmCall, "api"> {
  const callee = call.getExpression().getText().replace(/\s+/g, "");
  return { call, callee, dynamic: false, streaming: false, streamHelper: false, streamEndUnseen: false, perRequestCredential };
}

function wrapperCall(call: CallExpression, { client, bindings, perRequestCredential }: ClientReach): LlmCall | undefined {
  const callee = call.getExpression();
  if (Node.isElementAccessExpression(callee) && isClientExpression(callee.getExpression(), bindings)) {
    const argument = callee.getArgumentExpression();
    const literal = Node.isStringLiteral(argument) || Node.isNoSubstitutionTemplateLiteral(argument);
    if (!literal) return { ...base(call, !!perRequestCredential), api: "wrapper", dynamic: true };
    return argument.getLiteralText() === client.method ? { ...base(call, !!perRequestCredential), api: "wrapper" } : undefined;
  }
  if (!Node.isPropertyAccessExpression(callee) || callee.getName() !== client.method) return undefined;
  return isClientExpression(callee.getExpression(), bindings) ? { ...base(call, !!perRequestCredential), api: "wrapper" } : undefined;
}

function sdkCall(call: CallExpression, { client, bindings, perRequestCredential }: ClientReach): LlmCall | undefined {
  const row = client.row!;
  const callee = call.getExpression();
  if (Node.isElementAccessExpression(callee)) {
    const argument = callee.getArgumentExpression();
    const literal = Node.isStringLiteral(argument) || Node.isNoSubstitutionTemplateLiteral(argument);
    if (!literal && derivationOf(callee.getExpression(), bindings, 0) !== undefined) return { ...base(call, !!perRequestCredential), api: "sdk", row, dynamic: true };
    return undefined;
  }
  if (!Node.isPropertyAccessExpression(callee)) return undefined;
  const method = callee.getName();
  const path = derivationOf(callee.getExpression(), bindings, 0);
  if (path === undefined) return undefined;
  const full = path ? `${path}.${method}` : method;
  const matched = row.calls.find((c) => c.path === full) ?? row.derived?.find((d) => d.path === path)?.calls.find((c) => c.path === method);
  return matched ? withStream({ ...base(call, !!perRequestCredential), api: "sdk", row, sdkCall: matched }) : undefined;
}

/**
 * The property path from a client to an expression: "" for the client itself,
 * `chat.completions` for `openai.chat.completions`, `chats.create` for the chat that
 * `ai.chats.create()` returns (through variables), `runnable` for a LangChain chain built from a
 * model (`prompt.pipe(model)`). Undefined when the expression does not come from the client.
 */
export function derivationOf(expression: Node, bindings: ClientBindings, depth: number): string | undefined {
  if (depth > DERIVATION_DEPTH) return undefined;
  let node = skipWrappers(expression);
  if (Node.isAwaitExpression(node)) node = skipWrappers(node.getExpression());
  if (isClientExpression(node, bindings)) return "";
  if (Node.isPropertyAccessExpression(node)) {
    const base = derivationOf(node.getExpression(), bindings, depth + 1);
    return base === undefined ? undefined : base ? `${base}.${node.getName()}` : node.getName();
  }
  if (Node.isCallExpression(node)) {
    const callee = skipWrappers(node.getExpression());
    if (isChainBuilder(callee) && [callee, ...node.getArguments()].some((part) => partOfChain(part, bindings, depth))) return "runnable";
    return derivationOf(callee, bindings, depth + 1);
  }
  if (Node.isIdentifier(node) && mayBeDeclaredAs(node, VARIABLES)) {
    const declaration = node.getSymbol()?.getDeclarations()[0];
    const initializer = Node.isVariableDeclaration(declaration) ? declaration.getInitializer() : undefined;
    return initializer ? derivationOf(initializer, bindings, depth + 1) : undefined;
  }
  return undefined;
}

/** `x.pipe(…)` and `RunnableSequence.from([…])`: LangChain's ways to make a chain. */
function isChainBuilder(callee: Node): boolean {
  if (!Node.isPropertyAccessExpression(callee)) return false;
  return callee.getName() === "pipe" || /RunnableSequence\.from$/.test(callee.getText());
}

function partOfChain(part: Node, bindings: ClientBindings, depth: number): boolean {
  const node = Node.isPropertyAccessExpression(part) && part.getName() === "pipe" ? part.getExpression() : part;
  if (Node.isArrayLiteralExpression(node)) return node.getElements().some((element) => partOfChain(element, bindings, depth));
  if (Node.isPropertyAccessExpression(part) && part.getName() !== "pipe") return false;
  return derivationOf(node, bindings, depth + 1) !== undefined;
}

/** `generateText({ … })` imported from "ai" (renamed or through a namespace import too). */
function freeFunctionCall(call: CallExpression): LlmCall | undefined {
  const callee = call.getExpression();
  if (!Node.isIdentifier(callee) && !Node.isPropertyAccessExpression(callee)) return undefined;
  const found = sdkFreeFunction(callee);
  if (!found) return undefined;
  const matched = found.row.calls.find((c) => c.path === found.name)!;
  return withStream({ ...base(call, false), api: "sdk", row: found.row, sdkCall: matched });
}

function withStream(found: LlmCall): LlmCall {
  const stream = found.sdkCall?.stream;
  if (!stream) return found;
  const streaming = stream.when === "always" || streamParameter(found.call);
  return { ...found, streaming, streamHelper: streaming && stream.sync === true, streamEndUnseen: streaming && stream.result === "opaque" };
}

function streamParameter(call: CallExpression): boolean {
  const [params] = call.getArguments();
  if (!Node.isObjectLiteralExpression(params)) return false;
  const stream = params.getProperty("stream");
  return Node.isPropertyAssignment(stream) && stream.getInitializer()?.getKind() !== SyntaxKind.FalseKeyword;
}
