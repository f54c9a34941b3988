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
  /** `create({ ..., stream: true })` or a `.stream()` helper. */
  streaming: boolean;
  /** `chat.completions.stream()`, `responses.stream()`: returns the stream itself, not a promise. */
  streamHelper: boolean;
  /** A v3 SDK (`OpenAIApi`) method. */
  v3: boolean;
}

/** SDK methods reached from the client, as property paths (v4+ and the v3 `OpenAIApi`). */
const SDK_PATHS = [
  ["chat", "completions", "create"],
  ["chat", "completions", "parse"],
  ["chat", "completions", "stream"],
  ["beta", "chat", "completions", "parse"],
  ["beta", "chat", "completions", "stream"],
  ["responses", "create"],
  ["responses", "parse"],
  ["responses", "stream"],
  ["completions", "create"],
  ["embeddings", "create"],
  ["moderations", "create"],
  ["images", "generate"],
  ["audio", "transcriptions", "create"],
  ["audio", "translations", "create"],
  ["audio", "speech", "create"],
  // v3: request options (axios's, where `signal` and `timeout` work) are the second argument.
  ["createChatCompletion"],
  ["createCompletion"],
  ["createEmbedding"],
  ["createModeration"],
];
/** v3 methods: their streams are axios responses, which the runtime cannot follow to their end. */
const V3_METHODS = new Set(["createChatCompletion", "createCompletion", "createEmbedding", "createModeration"]);

export function findLlmCalls(files: readonly SourceFile[], client: SharedClient, bindings: ClientBindings): LlmCall[] {
  const calls: LlmCall[] = [];
  for (const file of files) {
    for (const call of file.getDescendantsOfKind(SyntaxKind.CallExpression)) {
      const found = classify(call, client, bindings);
      if (!found) continue;
      const method = calledMethodName(call);
      const streamHelper = found.api === "sdk" && method === "stream";
      const callee = call.getExpression().getText().replace(/\s+/g, "");
      calls.push({ call, callee, ...found, streaming: streamHelper || isStreaming(call), streamHelper, v3: found.api === "sdk" && V3_METHODS.has(method ?? "") });
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

function calledMethodName(call: CallExpression): string | undefined {
  const callee = call.getExpression();
  return Node.isPropertyAccessExpression(callee) ? callee.getName() : undefined;
}

function isStreaming(call: CallExpression): boolean {
  const [params] = call.getArguments();
  if (!Node.isObjectLiteralExpression(params)) return false;
  const stream = params.getProperty("stream");
  return Node.isPropertyAssignment(stream) && stream.getInitializer()?.getKind() !== SyntaxKind.FalseKeyword;
}
