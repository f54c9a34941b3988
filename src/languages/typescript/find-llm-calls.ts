import { Node, SyntaxKind, type CallExpression, type SourceFile } from "ts-morph";
import { isClientExpression, type ClientBindings, type SharedClient } from "./find-shared-client.js";

/** One call to the model through the shared client. */
export interface LlmCall {
  call: CallExpression;
  /** The callee as written, whitespace removed: `llmClient.generateResponse`, `openai.chat.completions.create`. */
  callee: string;
  /** "wrapper" for the wrapper's method, "sdk" for an SDK request. */
  api: "wrapper" | "sdk";
  /** `client[name](...)`: which method runs is only known at run time. */
  dynamic: boolean;
  /** `create({ ..., stream: true })`. */
  streaming: boolean;
}

/** SDK methods reached from the client, as property paths (v4+ and the v3 `OpenAIApi`). */
const SDK_PATHS = [
  ["chat", "completions", "create"],
  ["responses", "create"],
  ["completions", "create"],
  ["createChatCompletion"],
  ["createCompletion"],
];

export function findLlmCalls(files: readonly SourceFile[], client: SharedClient, bindings: ClientBindings): LlmCall[] {
  const calls: LlmCall[] = [];
  for (const file of files) {
    for (const call of file.getDescendantsOfKind(SyntaxKind.CallExpression)) {
      const found = classify(call, client, bindings);
      if (found) calls.push({ call, callee: call.getExpression().getText().replace(/\s+/g, ""), ...found, streaming: isStreaming(call) });
    }
  }
  return calls;
}

function classify(
  call: CallExpression,
  client: SharedClient,
  bindings: ClientBindings,
): { api: "wrapper" | "sdk"; dynamic: boolean } | undefined {
  const callee = call.getExpression();
  if (Node.isElementAccessExpression(callee) && isClientExpression(callee.getExpression(), bindings)) {
    const argument = callee.getArgumentExpression();
    const literal = Node.isStringLiteral(argument) || Node.isNoSubstitutionTemplateLiteral(argument);
    if (!literal) return { api: client.kind, dynamic: true };
    if (client.kind === "wrapper" && argument.getLiteralText() === client.method) return { api: "wrapper", dynamic: false };
    return undefined;
  }
  if (!Node.isPropertyAccessExpression(callee)) return undefined;
  if (client.kind === "wrapper") {
    return callee.getName() === client.method && isClientExpression(callee.getExpression(), bindings)
      ? { api: "wrapper", dynamic: false }
      : undefined;
  }
  for (const path of SDK_PATHS) {
    let node: Node = callee;
    let matched = true;
    for (const name of [...path].reverse()) {
      if (!Node.isPropertyAccessExpression(node) || node.getName() !== name) {
        matched = false;
        break;
      }
      node = node.getExpression();
    }
    if (matched && isClientExpression(node, bindings)) return { api: "sdk", dynamic: false };
  }
  return undefined;
}

function isStreaming(call: CallExpression): boolean {
  const [params] = call.getArguments();
  if (!Node.isObjectLiteralExpression(params)) return false;
  const stream = params.getProperty("stream");
  return Node.isPropertyAssignment(stream) && stream.getInitializer()?.getKind() !== SyntaxKind.FalseKeyword;
}
