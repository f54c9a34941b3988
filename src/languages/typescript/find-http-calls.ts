import { Node, SyntaxKind } from "./ts-morph.js";
import type { CallExpression } from "ts-morph";
import { LLM_HTTP_APIS, sdkRows, type SdkCall, type SdkRow } from "../sdks.js";
import { skipWrappers } from "./client-holders.js";
import { packageExportOf, packageName } from "./sdk-imports.js";

const HTTP_ROW = sdkRows("typescript").find((row) => row.generalHttp)!;
const HTTP_PACKAGES = new Set(HTTP_ROW.packages);
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** The hosts and paths of LLM APIs, from the SDK table (one list for both languages). */
const LLM_URL = new RegExp(
  [...LLM_HTTP_APIS.hosts.map((host) => (host.startsWith(".") ? `[\\w-]${escape(host)}` : escape(host))), ...LLM_HTTP_APIS.paths.map(escape)].join("|"),
);
/** Ollama's paths are generic: they count with its port or a name that says Ollama (`${OLLAMA_URL}/api/generate`). */
const OLLAMA_PATH = new RegExp(LLM_HTTP_APIS.ollama.paths.map((path) => `${escape(path)}\\b`).join("|"));
const OLLAMA_HOST = new RegExp(`:${LLM_HTTP_APIS.ollama.port}\\b|${LLM_HTTP_APIS.ollama.host}`, "i");

function isLlmUrl(text: string): boolean {
  return LLM_URL.test(text) || (OLLAMA_PATH.test(text) && OLLAMA_HOST.test(text));
}

const MAX_HOPS = 3;

export interface HttpLlmCall {
  call: CallExpression;
  row: SdkRow;
  sdkCall: SdkCall;
  /** `stream: true` in the payload, or a response read as a stream: the runtime cannot see its end. */
  streaming: boolean;
}

/**
 * A plain HTTP request to an LLM API: `rp(options)`, `axios.post(url, body)`, `got.post(url)`,
 * `fetch(url, init)` (global or imported), where the URL (written in the call, in an options
 * object, or in a variable or constant it comes from) is an LLM endpoint.
 */
export function httpLlmCall(call: CallExpression): HttpLlmCall | undefined {
  const name = httpFunction(call);
  if (name === undefined) return undefined;
  const args = call.getArguments();
  if (!args.some((arg) => mentionsLlmUrl(arg, 0))) return undefined;
  const sdkCall = HTTP_ROW.calls.find((c) => c.path === name) ?? HTTP_ROW.calls[0]!;
  // Gemini's REST API streams on its own path.
  const streaming = args.some((arg) => asksForStream(arg, 0) || /:streamGenerateContent\b/.test(arg.getText()));
  return { call, row: HTTP_ROW, sdkCall, streaming };
}

/** The call's name in the row ("" for `rp(…)`, `axios(…)`; "post"; "fetch") when it is an HTTP client's request. */
function httpFunction(call: CallExpression): string | undefined {
  const callee = skipWrappers(call.getExpression());
  if (Node.isIdentifier(callee)) {
    // The global fetch (nothing in the file declares it) or an HTTP package's function.
    if (callee.getText() === "fetch" && !callee.getSymbol()?.getDeclarations().some((d) => d.getSourceFile() === call.getSourceFile())) return "fetch";
    return fromHttpPackage(callee) ? (callee.getText() === "fetch" ? "fetch" : "") : undefined;
  }
  if (Node.isPropertyAccessExpression(callee) && /^(post|request)$/.test(callee.getName())) {
    return fromHttpPackage(callee.getExpression()) ? callee.getName() : undefined;
  }
  return undefined;
}

function fromHttpPackage(node: Node): boolean {
  const from = packageExportOf(node);
  return from !== undefined && HTTP_PACKAGES.has(packageName(from.module));
}

/** Whether an argument is, holds or names an LLM URL: a literal, an options object's `uri`/`url`, a variable or constant. */
function mentionsLlmUrl(node: Node, hops: number): boolean {
  if (hops > MAX_HOPS) return false;
  const inner = skipWrappers(node);
  if (Node.isStringLiteral(inner) || Node.isNoSubstitutionTemplateLiteral(inner)) return isLlmUrl(inner.getLiteralText());
  if (Node.isTemplateExpression(inner)) {
    if (isLlmUrl(inner.getText())) return true;
    return inner.getTemplateSpans().some((span) => mentionsLlmUrl(span.getExpression(), hops + 1));
  }
  if (Node.isBinaryExpression(inner)) return mentionsLlmUrl(inner.getLeft(), hops + 1) || mentionsLlmUrl(inner.getRight(), hops + 1);
  if (Node.isObjectLiteralExpression(inner)) {
    return inner.getProperties().some((p) => Node.isPropertyAssignment(p) && /^(uri|url|baseURL|baseUrl)$/.test(p.getName()) && mentionsLlmUrl(p.getInitializerOrThrow(), hops + 1))
      || inner.getProperties().some((p) => Node.isShorthandPropertyAssignment(p) && /^(uri|url)$/.test(p.getName()) && valueMentions(p.getNameNode(), hops));
  }
  if (Node.isIdentifier(inner)) return valueMentions(inner, hops);
  return false;
}

function valueMentions(identifier: Node, hops: number): boolean {
  const symbol = Node.isShorthandPropertyAssignment(identifier.getParent()) ? (identifier.getParent() as Node & { getValueSymbol(): ReturnType<Node["getSymbol"]> }).getValueSymbol() : identifier.getSymbol();
  return (symbol?.getDeclarations() ?? []).some((declaration) => {
    const initializer = Node.isVariableDeclaration(declaration) ? declaration.getInitializer() : undefined;
    return initializer !== undefined && mentionsLlmUrl(initializer, hops + 1);
  });
}

/** `stream: true` in the payload (`body`, `json`, `data` or the body argument), `responseType: "stream"`. */
function asksForStream(node: Node, hops: number): boolean {
  if (hops > MAX_HOPS) return false;
  const inner = skipWrappers(node);
  if (Node.isIdentifier(inner)) {
    const declaration = inner.getSymbol()?.getDeclarations()[0];
    const initializer = Node.isVariableDeclaration(declaration) ? declaration.getInitializer() : undefined;
    return initializer !== undefined && asksForStream(initializer, hops + 1);
  }
  if (Node.isCallExpression(inner) && /JSON\.stringify$/.test(inner.getExpression().getText())) return inner.getArguments().some((arg) => asksForStream(arg, hops + 1));
  if (!Node.isObjectLiteralExpression(inner)) return false;
  return inner.getProperties().some((property) => {
    if (!Node.isPropertyAssignment(property) && !Node.isShorthandPropertyAssignment(property)) return false;
    const name = property.getName();
    const value = Node.isPropertyAssignment(property) ? property.getInitializerOrThrow() : property.getNameNode();
    if (name === "stream") return value.getKind() !== SyntaxKind.FalseKeyword;
    if (name === "responseType") return /stream/.test(value.getText());
    return /^(body|json|data)$/.test(name) && asksForStream(value, hops + 1);
  });
}
