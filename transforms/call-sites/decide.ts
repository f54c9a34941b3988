import { Node } from "../../src/languages/typescript/ts-morph.js";
import type { CallExpression, ConditionalExpression } from "ts-morph";
import type { Serialisation } from "../../src/languages/typescript/find-serialisation.js";
import { findUserKey } from "../../src/languages/typescript/find-user-key.js";
import type { LlmCall } from "../../src/languages/typescript/find-llm-calls.js";
import { isTypeScriptFile } from "../../src/languages/typescript/source-style.js";
import { inlineProcessTarget, wrapperTarget, type WrapperTarget } from "../../src/languages/typescript/wrapper-target.js";
import type { Analysis } from "../context.js";
import type { RouteHandler } from "../frameworks/index.js";
import type { ReasonCode } from "../reasons.js";
import { callersOf, enclosingFunction, FUNCTION_KINDS } from "./reach.js";

export { enclosingFunction, FUNCTION_KINDS } from "./reach.js";

/** What to do with one call site, decided before anything is edited. */
export type CallSitePlan =
  | { state: "ignored" }
  | { state: "already-migrated"; key?: string }
  | { state: "left"; reason: ReasonCode }
  | {
      state: "rewritten";
      key?: string;
      /** The key is the client address (`req.ip`): users behind one proxy share one canary bucket. */
      keyIsClientAddress?: boolean;
      /** The function to make async so that the new path can await. */
      makeAsync?: Node;
      /** The route handlers to wrap in the framework's error wrapper: around the call, or calling its function. */
      wrap: RouteHandler[];
      blocking: boolean;
      /** A `.stream()` helper returns the stream itself; gated, it is a promise to await. */
      awaitResult: boolean;
      /** The one-at-a-time queue or mutex call around an SDK call, which the new path leaves out. */
      serialisedBy?: CallExpression;
      /** A wrapper call: the endpoint, model and API the new path calls, as the wrapper does. */
      target?: WrapperTarget;
      /** An inline model process (`execFileSync("ollama", ["run", model, prompt])`): the prompt it sends. */
      prompt?: Node;
    };

export function routeHandlersByFunction(analysis: Analysis): Map<Node, RouteHandler> {
  const handlers = new Map<Node, RouteHandler>();
  for (const route of analysis.routes) for (const handler of route.handlers) handlers.set(handler.fn, handler);
  return handlers;
}

/**
 * The `queue.add(() => call)`, `mutex.runExclusive(() => call)` or `limit(() => call)` that lets
 * one SDK call through at a time. A rate-limiting queue is kept: it is there on purpose.
 */
function serialisingCall(call: CallExpression, serialisations: Serialisation[]): CallExpression | undefined {
  let body: Node = call;
  let parent = body.getParent();
  if (Node.isAwaitExpression(parent)) {
    body = parent;
    parent = body.getParent();
  }
  if (Node.isReturnStatement(parent)) {
    const block = parent.getParent();
    if (!Node.isBlock(block) || block.getStatements().length !== 1) return undefined;
    body = block;
    parent = block.getParent();
  }
  if (!Node.isArrowFunction(parent) || parent.getBody() !== body || parent.getParameters().length) return undefined;
  const outer = parent.getParent();
  if (!Node.isCallExpression(outer) || outer.getArguments().length !== 1 || outer.getArguments()[0] !== parent) return undefined;
  const callee = outer.getExpression();
  const holder = Node.isPropertyAccessExpression(callee) && /^(add|runExclusive)$/.test(callee.getName()) ? callee.getExpression() : callee;
  const declaration = (Node.isPropertyAccessExpression(holder) ? holder.getNameNode() : holder).getSymbol()?.getDeclarations()[0];
  const initializer = Node.isVariableDeclaration(declaration) || Node.isPropertyDeclaration(declaration) ? declaration.getInitializer() : undefined;
  const found = serialisations.find((s) => s.node === initializer);
  return found && !found.rateLimit ? outer : undefined;
}

export function planCallSite(llmCall: LlmCall, analysis: Analysis, handlers: Map<Node, RouteHandler>, serialisations: Serialisation[]): CallSitePlan {
  const { call, api } = llmCall;
  const gate = gatingConditional(call);
  if (gate) {
    if (gate.getWhenTrue().getPos() <= call.getPos() && call.getEnd() <= gate.getWhenTrue().getEnd()) return { state: "ignored" };
    return { state: "already-migrated", key: keyOfContext(gate.getCondition() as CallExpression) };
  }
  const gateCall = gatingCall(call);
  if (gateCall) return { state: "already-migrated", key: keyOfContext(gateCall) };
  if (llmCall.perRequestCredential) return { state: "left", reason: "PER_REQUEST_CREDENTIAL" };
  // A model process run inline is gated as a wrapper around it would be, when its target can be read.
  const inline = api === "process" ? inlineProcessTarget(call) : undefined;
  if (api === "process" && !inline) return { state: "left", reason: "BLOCKING_CHILD_PROCESS_CALL" };
  if (llmCall.dynamic) return { state: "left", reason: "DYNAMIC_CALLEE" };
  if (llmCall.streamEndUnseen) return { state: "left", reason: "STREAMING" };
  const awaitResult = llmCall.streamHelper && !Node.isAwaitExpression(call.getParent());
  const wrapper = analysis.detection.clients.find((c) => c.kind === "wrapper");
  const returnsPromise = (api === "sdk" && !awaitResult) || (api === "wrapper" && (wrapper?.methodReturnsPromise ?? typeIsPromise(call)));
  let target: WrapperTarget | undefined = inline?.target;
  if (api === "wrapper") {
    if (call.getArguments().length !== 1) return { state: "left", reason: "EXTRA_ARGUMENTS" };
    if (!resultIsText(call, returnsPromise)) return { state: "left", reason: "NON_TEXT_RESULT" };
  }

  const fn = enclosingFunction(call);
  let makeAsyncFn: Node | undefined;
  if (!returnsPromise) {
    if (!fn || Node.isPropertyDeclaration(fn)) return { state: "left", reason: "TOP_LEVEL" };
    if (Node.isConstructorDeclaration(fn)) return { state: "left", reason: "CONSTRUCTOR" };
    if (Node.isGetAccessorDeclaration(fn)) return { state: "left", reason: "GETTER" };
    if (Node.isSetAccessorDeclaration(fn)) return { state: "left", reason: "SETTER" };
    const fnLike = fn as Node & { isAsync(): boolean; isGenerator?(): boolean };
    if (fnLike.isGenerator?.()) return { state: "left", reason: "GENERATOR" };
    if (!fnLike.isAsync()) {
      // Only a handler whose return value the framework ignores can start returning a promise.
      if (!handlers.has(fn)) {
        const isCallback = Node.isArrowFunction(fn) || Node.isFunctionExpression(fn);
        return { state: "left", reason: isCallback ? "SYNC_CALLBACK" : "SYNC_CALLER" };
      }
      makeAsyncFn = fn;
    }
  }

  if (api === "wrapper") {
    // Last: a call that cannot be rewritten where it stands says so first.
    target = wrapperTarget(wrapper?.wrapperClass, wrapper?.method);
    if (!target) return { state: "left", reason: "WRAPPER_TARGET_UNKNOWN" };
  }
  const handler = nearestHandler(call, handlers);
  const clientAddress = handler && analysis.framework?.clientAddress(handler.fn);
  const key = findUserKey(call, {
    handler: handler?.fn,
    clientAddress: handler && (analysis.framework?.userKey?.(handler.fn) ?? clientAddress),
  });
  const serialisedBy = api === "sdk" && !awaitResult ? serialisingCall(call, serialisations) : undefined;
  const wrap = handler ? [handler] : handlersCalling(call, handlers);
  const keyIsClientAddress = key !== undefined && key === clientAddress;
  return { state: "rewritten", key, keyIsClientAddress, makeAsync: makeAsyncFn, wrap, blocking: !returnsPromise, awaitResult, serialisedBy, target, prompt: inline?.prompt };
}

/**
 * Handlers that reach the call through the functions of a service module
 * (`summarize()` called by the `/summary` handler), so that the runtime's retryable errors
 * become 503 + Retry-After there too. Followed a few calls deep.
 */
function handlersCalling(call: Node, handlers: Map<Node, RouteHandler>): RouteHandler[] {
  const found = new Set<RouteHandler>();
  let frontier: Node[] = [call];
  for (let depth = 0; depth < 3 && frontier.length; depth++) {
    const next: Node[] = [];
    for (const node of frontier) {
      for (const caller of callersOf(enclosingFunction(node) ?? node)) {
        const handler = nearestHandler(caller, handlers);
        if (handler) found.add(handler);
        else next.push(caller);
      }
    }
    frontier = next;
  }
  return [...found];
}

function nearestHandler(node: Node, handlers: Map<Node, RouteHandler>): RouteHandler | undefined {
  for (let fn = enclosingFunction(node); fn; fn = enclosingFunction(fn)) {
    const handler = handlers.get(fn);
    if (handler) return handler;
  }
  return undefined;
}

/** The `useNewLlmPath(...) ? … : …` a call already sits in, if any. */
function gatingConditional(call: Node) {
  return call.getFirstAncestor(
    (a): a is ConditionalExpression =>
      Node.isConditionalExpression(a) && /^useNewLlmPath\s*\(/.test(a.getCondition().getText()),
  );
}

/** The `gateLlmCall(context, (options) => …)` a call already sits in, if any. */
function gatingCall(call: Node): CallExpression | undefined {
  return call.getFirstAncestor(
    (a): a is CallExpression => Node.isCallExpression(a) && a !== call && a.getExpression().getText() === "gateLlmCall",
  );
}

/** The key expression of an existing `{ key: … }` gating context. */
function keyOfContext(gate: CallExpression): string | undefined {
  return gate.getArguments()[0]?.getText().match(/key:\s*([^}]+?)\s*}$/)?.[1];
}

/** True when a try/catch inside the same function would catch what the call throws. */
export function caughtLocally(call: Node): boolean {
  for (let node = call.getParent(); node && !FUNCTION_KINDS.has(node.getKind()); node = node.getParent()) {
    const parent = node.getParent();
    if (Node.isTryStatement(parent) && parent.getTryBlock() === node && parent.getCatchClause()) return true;
  }
  return false;
}

function typeIsPromise(call: CallExpression): boolean {
  const symbol = call.getType().getSymbol()?.getName();
  return symbol === "Promise" || symbol === "PromiseLike" || /^Promise</.test(call.getType().getText());
}

/** The new path yields text; a wrapper that returns anything else would change type. */
function resultIsText(call: CallExpression, returnsPromise: boolean): boolean {
  if (!isTypeScriptFile(call.getSourceFile())) return true;
  let type = call.getType();
  if (returnsPromise) type = type.getTypeArguments()[0] ?? type;
  return type.isAny() || type.isString() || type.isStringLiteral() || (type.isUnion() && type.getUnionTypes().every((t) => t.isString() || t.isStringLiteral()));
}

