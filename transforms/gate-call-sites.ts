import { Node, SyntaxKind, type CallExpression, type ConditionalExpression, type Identifier, type SourceFile } from "ts-morph";
import { findChildProcessCalls } from "../src/languages/typescript/find-child-process.js";
import { findSerialisation, type Serialisation } from "../src/languages/typescript/find-serialisation.js";
import { findUserKey } from "../src/languages/typescript/find-user-key.js";
import type { LlmCall } from "../src/languages/typescript/find-llm-calls.js";
import {
  detectStyle,
  indentationAt,
  isTypeScriptFile,
  lineStartOf,
  type SourceStyle,
} from "../src/languages/typescript/source-style.js";
import { EditPlan, relativePath, type Analysis, type MigrationContext, type RuntimeName, type Transform } from "./context.js";
import type { RouteHandler } from "./frameworks/index.js";
import { leftComment, reasons, type ReasonCode } from "./reasons.js";
import type { CallSiteReport, FindingKind } from "./types.js";

/** What to do with one call site, decided before anything is edited. */
type CallSitePlan =
  | { state: "ignored" }
  | { state: "already-migrated"; key?: string }
  | { state: "left"; reason: ReasonCode }
  | {
      state: "rewritten";
      key?: string;
      /** The function to make async so that the new path can await. */
      makeAsync?: Node;
      /** The route handlers to wrap in the framework's error wrapper: around the call, or calling its function. */
      wrap: RouteHandler[];
      blocking: boolean;
      /** A `.stream()` helper returns the stream itself; gated, it is a promise to await. */
      awaitResult: boolean;
      /** The one-at-a-time queue or mutex call around an SDK call, which the new path leaves out. */
      serialisedBy?: CallExpression;
    };

export const gateCallSites: Transform = {
  name: "gate-call-sites",
  description:
    "Puts every call on the shared client behind useNewLlmPath(): the new path goes through the semaphore-gated async client, the legacy path is the original call.",
  run(context) {
    const analysis = context.analyse();
    const { calls } = analysis;
    const plan = new EditPlan();
    const handlers = routeHandlersByFunction(analysis);
    const commented = new Set<string>();
    const wrapped = new Set<Node>();
    const madeAsync = new Set<Node>();
    const styles = new Map<SourceFile, SourceStyle>();
    const styleOf = (file: SourceFile) => styles.get(file) ?? styles.set(file, detectStyle(file)).get(file)!;

    reportClientTraits(context, analysis);
    const serialisations = analysis.files.flatMap((f) => findSerialisation(f));
    for (const llmCall of calls) {
      const decision = planCallSite(llmCall, analysis, handlers, serialisations);
      if (decision.state === "ignored") continue;
      const file = llmCall.call.getSourceFile();
      const report = reportFor(context, llmCall);
      if (decision.state === "already-migrated") {
        context.callSites.push({ ...report, state: "already-migrated", key: decision.key });
      } else if (decision.state === "left") {
        context.callSites.push({ ...report, state: "left", reason: decision.reason, message: reasons[decision.reason].message });
        const at = commentPosition(llmCall.call);
        const id = `${file.getFilePath()}:${at}`;
        if (!commented.has(id) && !alreadyCommented(file, at, decision.reason)) {
          commented.add(id);
          plan.insert(file, at, `${indentationAt(file, at)}${leftComment(decision.reason)}\n`);
        }
      } else {
        context.callSites.push({ ...report, state: "rewritten", key: decision.key });
        if (caughtLocally(llmCall.call)) {
          const { message } = reasons.CAUGHT_LOCALLY;
          context.findings.push({ code: "CAUGHT_LOCALLY", kind: "warning", message, file: report.file, line: report.line });
        }
        if (decision.serialisedBy) {
          const { message } = reasons.SERIALISED_CALL;
          context.findings.push({ code: "SERIALISED_CALL", kind: "info", message, file: report.file, line: report.line });
        }
        const names: RuntimeName[] =
          llmCall.api === "wrapper"
            ? ["useNewLlmPath", "getAsyncLlmClient", "extractOutputText"]
            : decision.serialisedBy
              ? ["useNewLlmPath", "getAsyncLlmClient"]
              : ["gateLlmCall"];
        for (const handler of decision.wrap) {
          const wrapper = analysis.framework?.errorWrapper;
          if (!wrapper || wrapped.has(handler.argument)) continue;
          wrapped.add(handler.argument);
          const { argument } = handler;
          // Added before any `async ` at the same spot, so it lands first: `handleLlmErrors(async …`.
          plan.insert(argument.getSourceFile(), argument.getStart(), `${wrapper}(`);
          plan.insert(argument.getSourceFile(), argument.getEnd(), ")");
          context.needsRuntime(argument.getSourceFile(), wrapper);
        }
        if (decision.makeAsync && !madeAsync.has(decision.makeAsync)) {
          madeAsync.add(decision.makeAsync);
          makeAsync(plan, decision.makeAsync);
        }
        const replaced = decision.serialisedBy ?? llmCall.call;
        plan.replace(file, replaced.getStart(), replaced.getEnd(), gatedCall(llmCall, decision, styleOf(file)));
        context.needsRuntime(file, ...names);
      }
    }
    plan.apply();
  },
};

function reportFor(context: MigrationContext, { call, callee }: LlmCall): Omit<CallSiteReport, "state"> {
  const file = call.getSourceFile();
  const { line, column } = file.getLineAndColumnAtPos(call.getStart());
  return { file: relativePath(context.input, file), line, column, callee };
}

function routeHandlersByFunction(analysis: Analysis): Map<Node, RouteHandler> {
  const handlers = new Map<Node, RouteHandler>();
  for (const route of analysis.routes) for (const handler of route.handlers) handlers.set(handler.fn, handler);
  return handlers;
}

const FUNCTION_KINDS = new Set([
  SyntaxKind.ArrowFunction,
  SyntaxKind.FunctionExpression,
  SyntaxKind.FunctionDeclaration,
  SyntaxKind.MethodDeclaration,
  SyntaxKind.Constructor,
  SyntaxKind.GetAccessor,
  SyntaxKind.SetAccessor,
]);

function enclosingFunction(node: Node): Node | undefined {
  return node.getFirstAncestor((a) => FUNCTION_KINDS.has(a.getKind()) || Node.isPropertyDeclaration(a));
}

/**
 * Findings about the client itself. A blocking child process (`execSync("curl …")`, `ollama run`)
 * inside a wrapper is not rewritten in place: the call sites' new path already runs
 * generateResponseAsync, an async call through the gate, and the legacy path keeps the wrapper
 * as it was. That is the smallest diff a reviewer can check, and it needs no async twin of the
 * wrapper to be written and kept in step with it.
 */
function reportClientTraits(context: MigrationContext, analysis: Analysis): void {
  const push = (code: ReasonCode, kind: FindingKind, node: Node) =>
    context.findings.push({ code, kind, message: reasons[code].message, file: relativePath(context.input, node.getSourceFile()), line: node.getStartLineNumber() });
  const wrapper = analysis.client?.wrapperClass;
  if (wrapper) {
    for (const found of findSerialisation(wrapper)) push(found.rateLimit ? "RATE_LIMIT_BYPASSED" : "SERIALISED_WRAPPER", found.rateLimit ? "warning" : "info", found.node);
    for (const found of findChildProcessCalls(wrapper)) if (found.blocking && found.callsModel) push("BLOCKING_CHILD_PROCESS", "info", found.call);
  }
  if (analysis.client?.kind === "sdk") {
    for (const file of analysis.files) for (const found of findSerialisation(file)) if (found.rateLimit) push("RATE_LIMIT_QUEUE", "warning", found.node);
  }
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

function planCallSite(llmCall: LlmCall, analysis: Analysis, handlers: Map<Node, RouteHandler>, serialisations: Serialisation[]): CallSitePlan {
  const { call, api } = llmCall;
  const gate = gatingConditional(call);
  if (gate) {
    if (gate.getWhenTrue().getPos() <= call.getPos() && call.getEnd() <= gate.getWhenTrue().getEnd()) return { state: "ignored" };
    return { state: "already-migrated", key: keyOfContext(gate.getCondition() as CallExpression) };
  }
  const gateCall = gatingCall(call);
  if (gateCall) return { state: "already-migrated", key: keyOfContext(gateCall) };
  if (llmCall.dynamic) return { state: "left", reason: "DYNAMIC_CALLEE" };
  if (llmCall.streaming && llmCall.v3) return { state: "left", reason: "STREAMING" };
  const awaitResult = llmCall.streamHelper && !Node.isAwaitExpression(call.getParent());
  const returnsPromise = (api === "sdk" && !awaitResult) || (api === "wrapper" && (analysis.client?.methodReturnsPromise ?? typeIsPromise(call)));
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

  const handler = nearestHandler(call, handlers);
  const key = findUserKey(call, {
    handler: handler?.fn,
    clientAddress: handler && (analysis.framework?.userKey?.(handler.fn) ?? analysis.framework?.clientAddress(handler.fn)),
  });
  const serialisedBy = api === "sdk" && !awaitResult ? serialisingCall(call, serialisations) : undefined;
  const wrap = handler ? [handler] : handlersCalling(call, handlers);
  return { state: "rewritten", key, makeAsync: makeAsyncFn, wrap, blocking: !returnsPromise, awaitResult, serialisedBy };
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
      const name = functionName(enclosingFunction(node));
      for (const reference of name?.findReferencesAsNodes() ?? []) {
        // `summarize(…)` or, for a method, `summarizer.run(…)`.
        const callee = Node.isPropertyAccessExpression(reference.getParent()) ? reference.getParentOrThrow() : reference;
        const caller = callee.getParent();
        if (!Node.isCallExpression(caller) || caller.getExpression() !== callee) continue;
        const handler = nearestHandler(caller, handlers);
        if (handler) found.add(handler);
        else next.push(caller);
      }
    }
    frontier = next;
  }
  return [...found];
}

/** The name node of a function declaration, method, or arrow held in a variable. */
function functionName(fn: Node | undefined): Identifier | undefined {
  if (Node.isFunctionDeclaration(fn) || Node.isMethodDeclaration(fn)) {
    const name = fn.getNameNode();
    return Node.isIdentifier(name) ? name : undefined;
  }
  const holder = fn?.getParent();
  if ((Node.isArrowFunction(fn) || Node.isFunctionExpression(fn)) && Node.isVariableDeclaration(holder)) {
    const name = holder.getNameNode();
    return Node.isIdentifier(name) ? name : undefined;
  }
  return undefined;
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
function caughtLocally(call: Node): boolean {
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

function commentPosition(call: Node): number {
  const statement = call.getFirstAncestor(
    (a) => Node.isStatement(a) && (Node.isBlock(a.getParent()) || Node.isSourceFile(a.getParent()) || Node.isCaseClause(a.getParent())),
  );
  const target = statement ?? call;
  return lineStartOf(call.getSourceFile(), target.getStart());
}

function alreadyCommented(file: SourceFile, lineStart: number, reason: ReasonCode): boolean {
  const text = file.getFullText();
  const previousLineStart = text.lastIndexOf("\n", lineStart - 2) + 1;
  return text.slice(previousLineStart, lineStart).trim().startsWith(`// llm-migrate: ${reason}`);
}

function makeAsync(plan: EditPlan, fn: Node): void {
  const file = fn.getSourceFile();
  let at = fn.getStart();
  if (Node.isFunctionDeclaration(fn) || Node.isFunctionExpression(fn)) {
    at = fn.getFirstChildByKindOrThrow(SyntaxKind.FunctionKeyword).getStart();
  } else if (Node.isMethodDeclaration(fn)) {
    at = fn.getNameNode().getStart();
  }
  plan.insert(file, at, "async ");
  const returnType = (fn as Node & { getReturnTypeNode?(): Node | undefined }).getReturnTypeNode?.();
  if (returnType && !/^Promise</.test(returnType.getText())) {
    plan.replace(file, returnType.getStart(), returnType.getEnd(), `Promise<${returnType.getText()}>`);
  }
}

/**
 * A wrapper call becomes `useNewLlmPath({ key }) ? <new path> : <original call>`; an SDK call,
 * `gateLlmCall({ key }, (options) => <original call, passing options>)`, which keeps its
 * arguments written once. Both laid out as DESIGN.md shows.
 */
function gatedCall(llmCall: LlmCall, decision: Extract<CallSitePlan, { state: "rewritten" }>, style: SourceStyle): string {
  const { call } = llmCall;
  const context = decision.key === undefined ? "" : decision.key === "key" ? "{ key }" : `{ key: ${decision.key} }`;
  const file = call.getSourceFile();
  const unit = style.indent;
  const inner = indentationAt(file, (decision.serialisedBy ?? call).getStart()) + unit;
  // Continuation lines move one level right, as the branch they now sit in.
  const reindent = (text: string) => text.replace(/\n/g, `\n${unit}`);
  if (llmCall.api !== "wrapper") {
    const options = unusedName(call, ["options", "requestOptions", "llmOptions"]);
    const task = `(${options}) => ${withRequestOptions(call, options)}`;
    if (decision.serialisedBy) {
      // Conditional as for a wrapper: the legacy branch is the original queued call, byte for byte.
      const queued = decision.serialisedBy;
      const runOptions = decision.key === undefined ? "" : `, ${context}`;
      const conditional = `useNewLlmPath(${context})\n${inner}? ${reindent(`getAsyncLlmClient().run(${task}${runOptions})`)}\n${inner}: ${reindent(queued.getText())}`;
      return needsParentheses(queued) ? `(${conditional})` : conditional;
    }
    // Options the user wrote go to gateLlmCall, which keeps them on both paths (runtime/user-options.ts).
    const written = call.getArguments()[1]?.getText();
    const withWritten = written === undefined ? context || "{}" : context ? `${context.slice(0, -2)}, options: ${written} }` : `{ options: ${written} }`;
    const gatedTask = written === undefined ? task : `(${options}) => ${withRequestOptions(call, options, true)}`;
    const gated = `gateLlmCall(${withWritten}, ${gatedTask})`;
    if (!decision.awaitResult) return gated;
    return needsParentheses(call) ? `(await ${gated})` : `await ${gated}`;
  }
  const messages = call.getArguments()[0]!.getText();
  const newPath = decision.blocking
    ? `extractOutputText(await getAsyncLlmClient().generateResponseAsync(${messages}))`
    : `getAsyncLlmClient().generateResponseAsync(${messages}).then(extractOutputText)`;
  const conditional = `useNewLlmPath(${context})\n${inner}? ${reindent(newPath)}\n${inner}: ${reindent(call.getText())}`;
  return needsParentheses(call) ? `(${conditional})` : conditional;
}

function unusedName(node: Node, candidates: string[]): string {
  const used = new Set(node.getDescendantsOfKind(SyntaxKind.Identifier).map((id) => id.getText()));
  return candidates.find((name) => !used.has(name)) ?? `${candidates[0]}_`;
}

/**
 * The SDK call with the runtime's request options as its last argument. A client held in a
 * nullable `let` gets a `!`: the narrowing at the call site does not reach into the callback.
 */
function withRequestOptions(call: CallExpression, options: string, replaceWritten = false): string {
  const start = call.getStart();
  const text = call.getText();
  const edits: { at: number; end: number; text: string }[] = [];
  const args = call.getArguments();
  if (args.length >= 2) {
    const second = args[1]!;
    const replacement = replaceWritten ? options : `{ ...${second.getText()}, ...${options} }`;
    edits.push({ at: second.getStart() - start, end: second.getEnd() - start, text: replacement });
  } else if (args.length === 1) {
    edits.push({ at: args[0]!.getEnd() - start, end: args[0]!.getEnd() - start, text: `, ${options}` });
  } else {
    const close = text.lastIndexOf(")");
    edits.push({ at: close, end: close, text: `undefined, ${options}` });
  }
  const root = rootIdentifier(call.getExpression());
  if (root && isTypeScriptFile(call.getSourceFile()) && declaredNullable(root)) {
    edits.push({ at: root.getEnd() - start, end: root.getEnd() - start, text: "!" });
  }
  edits.sort((a, b) => b.at - a.at);
  return edits.reduce((acc, edit) => acc.slice(0, edit.at) + edit.text + acc.slice(edit.end), text);
}

function rootIdentifier(callee: Node): Node | undefined {
  let node = callee;
  while (Node.isPropertyAccessExpression(node)) node = node.getExpression();
  return Node.isIdentifier(node) ? node : undefined;
}

function declaredNullable(identifier: Node): boolean {
  const declaration = identifier.getSymbol()?.getDeclarations()[0];
  if (!Node.isVariableDeclaration(declaration) || declaration.getVariableStatement()?.getDeclarationKind() === "const") return false;
  // The annotation first: with the SDK's types out of reach, `OpenAI | null` would read as `any`.
  const annotation = declaration.getTypeNode();
  if (Node.isUnionTypeNode(annotation)) {
    return annotation.getTypeNodes().some((t) => /^(null|undefined)$/.test(t.getText()));
  }
  return declaration.getType().isNullable();
}

/** Where a bare conditional expression would change the meaning or not parse. */
function needsParentheses(call: Node): boolean {
  const parent = call.getParent();
  if (!parent) return false;
  if (Node.isCallExpression(parent) || Node.isNewExpression(parent)) return parent.getExpression() === call;
  if (Node.isBinaryExpression(parent)) {
    const assignment = parent.getOperatorToken().getKind() >= SyntaxKind.FirstAssignment && parent.getOperatorToken().getKind() <= SyntaxKind.LastAssignment;
    return !(assignment && parent.getRight() === call);
  }
  return !(
    Node.isVariableDeclaration(parent) ||
    Node.isReturnStatement(parent) ||
    Node.isExpressionStatement(parent) ||
    Node.isPropertyAssignment(parent) ||
    Node.isArrayLiteralExpression(parent) ||
    Node.isArrowFunction(parent) ||
    Node.isParenthesizedExpression(parent) ||
    Node.isTemplateSpan(parent) ||
    Node.isJsxExpression(parent) ||
    Node.isSpreadElement(parent) ||
    Node.isSpreadAssignment(parent)
  );
}
