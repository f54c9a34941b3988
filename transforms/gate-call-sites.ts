import { Node, SyntaxKind, type CallExpression, type ConditionalExpression, type SourceFile } from "ts-morph";
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
import type { CallSiteReport } from "./types.js";

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
      /** The route handler to wrap in the framework's error wrapper. */
      wrap?: RouteHandler;
      blocking: boolean;
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

    for (const llmCall of calls) {
      const decision = planCallSite(llmCall, analysis, handlers);
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
        const names: RuntimeName[] =
          llmCall.api === "wrapper" ? ["useNewLlmPath", "getAsyncLlmClient", "extractOutputText"] : ["gateLlmCall"];
        if (decision.wrap && analysis.framework?.errorWrapper && !wrapped.has(decision.wrap.argument)) {
          wrapped.add(decision.wrap.argument);
          names.push(analysis.framework.errorWrapper);
          const { argument } = decision.wrap;
          const wrapper = analysis.framework.errorWrapper;
          // Added before any `async ` at the same spot, so it lands first: `handleLlmErrors(async …`.
          plan.insert(argument.getSourceFile(), argument.getStart(), `${wrapper}(`);
          plan.insert(argument.getSourceFile(), argument.getEnd(), ")");
        }
        if (decision.makeAsync && !madeAsync.has(decision.makeAsync)) {
          madeAsync.add(decision.makeAsync);
          makeAsync(plan, decision.makeAsync);
        }
        plan.replace(file, llmCall.call.getStart(), llmCall.call.getEnd(), gatedCall(llmCall, decision, styleOf(file)));
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

function planCallSite(llmCall: LlmCall, analysis: Analysis, handlers: Map<Node, RouteHandler>): CallSitePlan {
  const { call, api } = llmCall;
  const gate = gatingConditional(call);
  if (gate) {
    if (gate.getWhenTrue().getPos() <= call.getPos() && call.getEnd() <= gate.getWhenTrue().getEnd()) return { state: "ignored" };
    return { state: "already-migrated", key: keyOfContext(gate.getCondition() as CallExpression) };
  }
  const gateCall = gatingCall(call);
  if (gateCall) return { state: "already-migrated", key: keyOfContext(gateCall) };
  if (llmCall.dynamic) return { state: "left", reason: "DYNAMIC_CALLEE" };
  if (llmCall.streaming) return { state: "left", reason: "STREAMING" };
  const returnsPromise = api === "sdk" || (analysis.client?.methodReturnsPromise ?? typeIsPromise(call));
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
    clientAddress: handler && analysis.framework?.clientAddress(handler.fn),
  });
  return { state: "rewritten", key, makeAsync: makeAsyncFn, wrap: handler, blocking: !returnsPromise };
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
  if (llmCall.api !== "wrapper") {
    const options = unusedName(call, ["options", "requestOptions", "llmOptions"]);
    return `gateLlmCall(${context || "{}"}, (${options}) => ${withRequestOptions(call, options)})`;
  }
  const file = call.getSourceFile();
  const unit = style.indent;
  const inner = indentationAt(file, call.getStart()) + unit;
  // Continuation lines move one level right, as the branch they now sit in.
  const reindent = (text: string) => text.replace(/\n/g, `\n${unit}`);
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
function withRequestOptions(call: CallExpression, options: string): string {
  const start = call.getStart();
  const text = call.getText();
  const edits: { at: number; end: number; text: string }[] = [];
  const args = call.getArguments();
  if (args.length >= 2) {
    const second = args[1]!;
    edits.push({ at: second.getStart() - start, end: second.getEnd() - start, text: `{ ...${second.getText()}, ...${options} }` });
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
