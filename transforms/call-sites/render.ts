import { Node, SyntaxKind } from "../../src/languages/typescript/ts-morph.js";
import type { SourceFile } from "ts-morph";
import { optionsFormOf, type OptionsForm } from "../../src/languages/sdks.js";
import type { LlmCall } from "../../src/languages/typescript/find-llm-calls.js";
import type { WrapperTarget } from "../../src/languages/typescript/wrapper-target.js";
import { indentationAt, lineStartOf, type SourceStyle } from "../../src/languages/typescript/source-style.js";
import type { EditPlan } from "../context.js";
import type { ReasonCode } from "../reasons.js";
import type { CallSitePlan } from "./decide.js";
import { withRequestOptions } from "./request-options.js";

export function commentPosition(call: Node): number {
  const statement = call.getFirstAncestor(
    (a) => Node.isStatement(a) && (Node.isBlock(a.getParent()) || Node.isSourceFile(a.getParent()) || Node.isCaseClause(a.getParent())),
  );
  const target = statement ?? call;
  return lineStartOf(call.getSourceFile(), target.getStart());
}

export function alreadyCommented(file: SourceFile, lineStart: number, reason: ReasonCode): boolean {
  const text = file.getFullText();
  const previousLineStart = text.lastIndexOf("\n", lineStart - 2) + 1;
  return text.slice(previousLineStart, lineStart).trim().startsWith(`// llm-migrate: ${reason}`);
}

export function makeAsync(plan: EditPlan, fn: Node): void {
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
 * A wrapper call (or a model process run inline) becomes `useNewLlmPath({ key }) ? <new path> : <original call>`; an SDK call,
 * `gateLlmCall({ key }, (options) => <original call, passing options>)`, which keeps its
 * arguments written once. Both laid out as DESIGN.md shows.
 */
export function gatedCall(llmCall: LlmCall, decision: Extract<CallSitePlan, { state: "rewritten" }>, style: SourceStyle): string {
  const { call } = llmCall;
  const context = decision.key === undefined ? "" : decision.key === "key" ? "{ key }" : `{ key: ${decision.key} }`;
  const file = call.getSourceFile();
  const unit = style.indent;
  const inner = indentationAt(file, (decision.serialisedBy ?? call).getStart()) + unit;
  // Continuation lines move one level right, as the branch they now sit in.
  const reindent = (text: string) => text.replace(/\n/g, `\n${unit}`);
  if (llmCall.api === "sdk") {
    const options = unusedName(call, ["options", "requestOptions", "llmOptions"]);
    const form = optionsForm(llmCall);
    // An SDK that takes no signal gets none: the gate still bounds how many calls run at once.
    const task = form.fields === "none" ? `() => ${withRequestOptions(call, options, form)}` : `(${options}) => ${withRequestOptions(call, options, form)}`;
    // Options the user wrote as a whole argument go to gateLlmCall, which keeps them on both paths (runtime/user-options.ts).
    const written = writtenOptions(llmCall);
    const withWritten = written === undefined ? context || "{}" : context ? `${context.slice(0, -2)}, options: ${written} }` : `{ options: ${written} }`;
    const gatedTask = written === undefined ? task : `(${options}) => ${withRequestOptions(call, options, form, true)}`;
    if (decision.serialisedBy) {
      // Conditional as for a wrapper: the legacy branch is the original queued call, byte for byte.
      // Written options: runLlmCall keeps them as gateLlmCall does, the path being chosen already.
      const queued = decision.serialisedBy;
      const runOptions = decision.key === undefined ? "" : `, ${context}`;
      const newPath = written === undefined ? `getAsyncLlmClient().run(${task}${runOptions})` : `runLlmCall(${withWritten}, ${gatedTask})`;
      const conditional = `useNewLlmPath(${context})\n${inner}? ${reindent(newPath)}\n${inner}: ${reindent(queued.getText())}`;
      return needsParentheses(queued) ? `(${conditional})` : conditional;
    }
    const gated = `gateLlmCall(${withWritten}, ${gatedTask})`;
    if (!decision.awaitResult) return gated;
    return needsParentheses(call) ? `(await ${gated})` : `await ${gated}`;
  }
  const messages = (decision.prompt ?? call.getArguments()[0]!).getText();
  const target = decision.target ? `, ${targetOptions(decision.target)}` : "";
  const newPath = decision.blocking
    ? `extractOutputText(await getAsyncLlmClient().generateResponseAsync(${messages}${target}))`
    : `getAsyncLlmClient().generateResponseAsync(${messages}${target}).then(extractOutputText)`;
  const conditional = `useNewLlmPath(${context})\n${inner}? ${reindent(newPath)}\n${inner}: ${reindent(call.getText())}`;
  return needsParentheses(call) ? `(${conditional})` : conditional;
}

function optionsForm(llmCall: LlmCall): OptionsForm {
  return llmCall.row && llmCall.sdkCall ? optionsFormOf(llmCall.row, llmCall.sdkCall) : { argument: 1, fields: "whole" };
}

/** The request options the user wrote on an SDK call, as one whole argument, if any. */
function writtenOptions(llmCall: LlmCall): string | undefined {
  if (llmCall.api !== "sdk") return undefined;
  const form = optionsForm(llmCall);
  return form.fields === "whole" ? llmCall.call.getArguments()[form.argument]?.getText() : undefined;
}

/** `{ model: …, api: "chat", baseURL: … }`: what the wrapper calls, so that the new path calls the same. */
function targetOptions(target: WrapperTarget): string {
  const fields = [`model: ${target.model}`, `api: "${target.api}"`];
  if (target.baseURL !== undefined) fields.push(`baseURL: ${target.baseURL}`);
  if (target.apiKey !== undefined) fields.push(`apiKey: ${target.apiKey}`);
  return `{ ${fields.join(", ")} }`;
}

function unusedName(node: Node, candidates: string[]): string {
  const used = new Set(node.getDescendantsOfKind(SyntaxKind.Identifier).map((id) => id.getText()));
  return candidates.find((name) => !used.has(name)) ?? `${candidates[0]}_`;
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

