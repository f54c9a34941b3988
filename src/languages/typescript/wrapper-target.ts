import { Node, SyntaxKind } from "./ts-morph.js";
import type { ClassDeclaration, Expression, MethodDeclaration, ObjectLiteralExpression } from "ts-morph";

/**
 * What a wrapper's method calls, read from its code, so that the new path calls the same thing:
 * the OpenAI-compatible endpoint's base URL (and key), the model and the API (chat completions or
 * Responses). Each value is an expression that means the same at any call site: a literal,
 * `process.env.X`, or those combined with `??`, `||` and template strings (module constants and
 * `this.x` fields are followed to such an expression).
 */
export interface WrapperTarget {
  api: "chat" | "responses";
  model: string;
  /** Undefined: the SDK's own default (OPENAI_BASE_URL, else api.openai.com), as the wrapper's `new OpenAI()`. */
  baseURL?: string;
  apiKey?: string;
}

/**
 * The ollama CLI's server: the runtime reads OLLAMA_HOST as the CLI does (127.0.0.1:11434 when
 * unset), so the new path reaches the same server (runtime/ollama-host.ts).
 */
const OLLAMA_OPENAI_BASE_URL = "ollamaBaseUrl()";
/** Request body fields the new path sends the same: anything else would be dropped, so the call is left. */
const BODY_FIELDS = new Set(["model", "messages", "input", "stream"]);
/** Client options the runtime's own SDK instance is given the same. */
const CLIENT_OPTIONS = new Set(["baseURL", "apiKey"]);

/** The wrapper method's target, or undefined when any part of it cannot be read (the call is then left with WRAPPER_TARGET_UNKNOWN). */
export function wrapperTarget(wrapperClass: ClassDeclaration | undefined, methodName: string | undefined): WrapperTarget | undefined {
  const method = methodName ? wrapperClass?.getMethod(methodName) : undefined;
  const parameter = method?.getParameters()[0]?.getNameNode();
  if (!method || !Node.isIdentifier(parameter) || method.getParameters().length !== 1) return undefined;
  const calls = method.getDescendantsOfKind(SyntaxKind.CallExpression);
  const upstream = calls.map((call) => upstreamOf(call, method)).filter((found) => found !== undefined);
  if (upstream.length !== 1) return undefined;
  const { url, body, client, ollamaCommand } = upstream[0]!;
  if (ollamaCommand) return ollamaTarget(ollamaCommand, parameter.getText());
  const request = body && requestOf(body, parameter.getText());
  if (!request) return undefined;
  if (url) {
    const endpoint = baseOf(url);
    if (!endpoint || endpoint.api !== request.api) return undefined;
    const apiKey = bearerKey(method);
    if (apiKey === null) return undefined;
    return { ...request, baseURL: endpoint.baseURL, ...(apiKey ? { apiKey } : {}) };
  }
  const options = client && clientOptions(client);
  if (!options) return undefined;
  return { ...request, ...options };
}

interface Upstream {
  url?: Expression;
  body?: ObjectLiteralExpression;
  /** The SDK client the call is made on (`this.openai`). */
  client?: Expression;
  ollamaCommand?: string;
}

/** One call that reaches the model: fetch, an SDK request, curl or the ollama CLI in a child process. */
function upstreamOf(call: Node, method: MethodDeclaration): Upstream | undefined {
  if (!Node.isCallExpression(call)) return undefined;
  const callee = call.getExpression().getText().replace(/\s/g, "");
  const args = call.getArguments();
  if (/^(globalThis\.)?fetch$/.test(callee)) {
    const init = args[1];
    const bodyValue = Node.isObjectLiteralExpression(init) ? propertyValue(init, "body") : undefined;
    return { url: args[0] as Expression, body: stringified(bodyValue, method) };
  }
  const sdk = callee.match(/^(.*)\.(chat\.completions|responses)\.create$/);
  if (sdk && Node.isPropertyAccessExpression(call.getExpression())) {
    // `this.openai.chat.completions.create` → `this.openai`.
    let receiver: Node = call.getExpression();
    for (let i = sdk[2]!.split(".").length + 1; i > 0 && Node.isPropertyAccessExpression(receiver); i--) receiver = receiver.getExpression();
    const body = args[0];
    return { client: receiver as Expression, body: Node.isObjectLiteralExpression(body) ? body : undefined };
  }
  if (/(^|\.)(execSync|execFileSync|spawnSync)$/.test(callee)) {
    const program = args[0];
    const text = Node.isStringLiteral(program) || Node.isNoSubstitutionTemplateLiteral(program) || Node.isTemplateExpression(program) ? program.getText().slice(1, -1) : "";
    if (/^ollama\s+run\s/.test(text)) return { ollamaCommand: text };
    if (text !== "curl" || !Node.isArrayLiteralExpression(args[1])) return undefined;
    const url = args[1].getElements().find((e) => /\/(chat\/completions|responses)[`"']$/.test(e.getText()));
    const options = args[2];
    const input = Node.isObjectLiteralExpression(options) ? propertyValue(options, "input") : undefined;
    return { url: url as Expression | undefined, body: stringified(input, method) };
  }
  return undefined;
}

/** `ollama run <model> "${prompt}"`: the same model on the same local server, through its OpenAI-compatible chat API. */
function ollamaTarget(command: string, parameter: string): WrapperTarget | undefined {
  const match = command.match(/^ollama\s+run\s+([\w.:/-]+)\s+"\$\{(\w+)\}"$/);
  if (!match || match[2] !== parameter) return undefined;
  return { api: "chat", model: JSON.stringify(match[1]), baseURL: OLLAMA_OPENAI_BASE_URL };
}

/**
 * `execFileSync("ollama", ["run", <model>, <prompt>], { encoding: "utf8" })` written right where the
 * text is needed (no wrapper): the same model on the same local server, and the prompt expression
 * the new path sends. Only an argv array (no shell string built from the request) with a readable
 * model, and no option but the text encoding (a `cwd`, `env` or `timeout` would change the call).
 */
export function inlineProcessTarget(call: Node): { target: WrapperTarget; prompt: Expression } | undefined {
  if (!Node.isCallExpression(call) || !/(^|\.)execFileSync$/.test(call.getExpression().getText())) return undefined;
  const [program, argv, options, ...more] = call.getArguments();
  if (more.length || !Node.isStringLiteral(program) || program.getLiteralText() !== "ollama" || !Node.isArrayLiteralExpression(argv)) return undefined;
  const [run, modelArgument, prompt, ...rest] = argv.getElements();
  if (rest.length || !Node.isStringLiteral(run) || run.getLiteralText() !== "run" || !prompt || Node.isSpreadElement(prompt)) return undefined;
  const model = portable(modelArgument);
  // Without a text encoding the legacy branch yields a Buffer, the new path a string.
  if (!model || !Node.isObjectLiteralExpression(options) || options.getProperties().length !== 1) return undefined;
  if (!/^["'](utf8|utf-8)["']$/i.test(propertyValue(options, "encoding")?.getText() ?? "")) return undefined;
  return { target: { api: "chat", model, baseURL: OLLAMA_OPENAI_BASE_URL }, prompt: prompt as Expression };
}

/** `JSON.stringify({ … })`, written there or in a `const body = JSON.stringify({ … })` of the method. */
function stringified(value: Node | undefined, method: MethodDeclaration): ObjectLiteralExpression | undefined {
  let node = value;
  if (Node.isIdentifier(node)) {
    const declaration = node.getSymbol()?.getDeclarations()[0];
    node = Node.isVariableDeclaration(declaration) && declaration.getFirstAncestor((a) => a === method) !== undefined ? declaration.getInitializer() : undefined;
  }
  if (!Node.isCallExpression(node) || node.getExpression().getText() !== "JSON.stringify" || node.getArguments().length !== 1) return undefined;
  const object = node.getArguments()[0];
  return Node.isObjectLiteralExpression(object) ? object : undefined;
}

/** The model and API of the request body, when it sends the method's argument as is and nothing the new path would drop. */
function requestOf(body: ObjectLiteralExpression, parameter: string): Pick<WrapperTarget, "api" | "model"> | undefined {
  const names = body.getProperties().map((p) => (Node.isPropertyAssignment(p) || Node.isShorthandPropertyAssignment(p) ? p.getName() : undefined));
  if (names.some((name) => name === undefined || !BODY_FIELDS.has(name))) return undefined;
  const stream = propertyValue(body, "stream");
  if (stream && stream.getText() !== "false") return undefined;
  const model = portable(propertyValue(body, "model"));
  if (!model) return undefined;
  const messages = propertyValue(body, "messages");
  const input = propertyValue(body, "input");
  if (messages && !input && sendsArgument(messages, parameter, true)) return { api: "chat", model };
  if (input && !messages && sendsArgument(input, parameter, false)) return { api: "responses", model };
  return undefined;
}

/** The argument itself, or (for chat) `[{ role: "user", content: argument }]`, which is what a string becomes. */
function sendsArgument(value: Node, parameter: string, chat: boolean): boolean {
  if (value.getText() === parameter) return true;
  if (!chat || !Node.isArrayLiteralExpression(value) || value.getElements().length !== 1) return false;
  const only = value.getElements()[0];
  if (!Node.isObjectLiteralExpression(only) || only.getProperties().length !== 2) return false;
  return propertyValue(only, "role")?.getText().slice(1, -1) === "user" && propertyValue(only, "content")?.getText() === parameter;
}

/** `${base}/chat/completions` → base and the chat API. */
function baseOf(url: Expression): { baseURL: string; api: WrapperTarget["api"] } | undefined {
  const suffix = /\/(chat\/completions|responses)$/;
  const apiOf = (path: string): WrapperTarget["api"] => (path === "responses" ? "responses" : "chat");
  if (Node.isStringLiteral(url) || Node.isNoSubstitutionTemplateLiteral(url)) {
    const text = url.getLiteralText();
    const match = text.match(suffix);
    return match ? { baseURL: JSON.stringify(text.slice(0, -match[0].length)), api: apiOf(match[1]!) } : undefined;
  }
  if (Node.isTemplateExpression(url)) {
    const spans = url.getTemplateSpans();
    const raw = spans.map((span, i) => span.getLiteral().getText().slice(1, i === spans.length - 1 ? -1 : -2));
    const match = raw[raw.length - 1]!.match(suffix);
    if (!match) return undefined;
    raw[raw.length - 1] = raw[raw.length - 1]!.slice(0, -match[0].length);
    const parts = spans.map((span) => portable(span.getExpression()));
    if (parts.some((part) => part === undefined)) return undefined;
    const head = url.getHead().getText().slice(1, -2);
    // `${BASE}/chat/completions` is BASE itself; anything around it stays a template.
    if (spans.length === 1 && head === "" && raw[0] === "") return { baseURL: parts[0]!, api: apiOf(match[1]!) };
    return { baseURL: `\`${head}${parts.map((part, i) => `\${${part}}${raw[i]}`).join("")}\``, api: apiOf(match[1]!) };
  }
  if (Node.isBinaryExpression(url) && url.getOperatorToken().getKind() === SyntaxKind.PlusToken) {
    const right = url.getRight();
    const match = (Node.isStringLiteral(right) ? right.getLiteralText() : "").match(/^\/(chat\/completions|responses)$/);
    const left = portable(url.getLeft());
    return match && left ? { baseURL: left, api: apiOf(match[1]!) } : undefined;
  }
  const resolved = followed(url);
  return resolved && resolved !== url && Node.isExpression(resolved) ? baseOf(resolved) : undefined;
}

/** The key of an `Authorization: Bearer …` header the method sends; undefined when none, null when unreadable. */
function bearerKey(method: MethodDeclaration): string | undefined | null {
  for (const template of method.getDescendantsOfKind(SyntaxKind.TemplateExpression)) {
    if (!/(^|:\s*)Bearer $/i.test(template.getHead().getLiteralText()) || template.getTemplateSpans().length !== 1) continue;
    return portable(template.getTemplateSpans()[0]!.getExpression()) ?? null;
  }
  return undefined;
}

/** The SDK client's `baseURL` and `apiKey`, from its `new OpenAI({ … })`; undefined for any other option or client. */
function clientOptions(client: Expression): Pick<WrapperTarget, "baseURL" | "apiKey"> | undefined {
  const construction = followed(client);
  if (!Node.isNewExpression(construction) || construction.getExpression().getText() !== "OpenAI") return undefined;
  const [options, ...more] = construction.getArguments();
  if (more.length) return undefined;
  if (!options) return {};
  if (!Node.isObjectLiteralExpression(options)) return undefined;
  const found: Pick<WrapperTarget, "baseURL" | "apiKey"> = {};
  for (const property of options.getProperties()) {
    if (!Node.isPropertyAssignment(property) && !Node.isShorthandPropertyAssignment(property)) return undefined;
    const name = property.getName() as "baseURL" | "apiKey";
    if (!CLIENT_OPTIONS.has(name)) return undefined;
    const value = portable(propertyValue(options, name));
    if (!value) return undefined;
    found[name] = value;
  }
  return found;
}

function propertyValue(object: ObjectLiteralExpression, name: string): Expression | undefined {
  const property = object.getProperty(name);
  if (Node.isPropertyAssignment(property)) return property.getInitializer();
  if (Node.isShorthandPropertyAssignment(property)) return property.getNameNode();
  return undefined;
}

/** A module constant or `this.x` field followed to what it holds (one `this.x = …` in the constructor counts). */
function followed(node: Node | undefined): Node | undefined {
  let current = node;
  for (let depth = 0; depth < 5 && current; depth++) {
    while (Node.isParenthesizedExpression(current) || Node.isNonNullExpression(current) || Node.isAsExpression(current)) current = current.getExpression();
    const target = Node.isIdentifier(current) ? current : Node.isPropertyAccessExpression(current) && current.getExpression().getKind() === SyntaxKind.ThisKeyword ? current.getNameNode() : undefined;
    if (!target) return current;
    const declaration = target.getSymbol()?.getDeclarations()[0];
    let next: Node | undefined;
    if (Node.isVariableDeclaration(declaration) && declaration.getVariableStatement()?.getDeclarationKind() === "const") next = declaration.getInitializer();
    else if (Node.isPropertyDeclaration(declaration)) next = declaration.getInitializer() ?? constructorAssignment(declaration);
    if (!next) return undefined;
    current = next;
  }
  return current;
}

function constructorAssignment(property: Node & { getName(): string }): Node | undefined {
  const cls = property.getFirstAncestorByKind(SyntaxKind.ClassDeclaration);
  const assignments = (cls?.getConstructors()[0]?.getDescendantsOfKind(SyntaxKind.BinaryExpression) ?? []).filter(
    (b) => b.getOperatorToken().getKind() === SyntaxKind.EqualsToken && b.getLeft().getText() === `this.${property.getName()}`,
  );
  return assignments.length === 1 ? assignments[0]!.getRight() : undefined;
}

/** The expression as text that means the same at any call site, or undefined. */
export function portable(node: Node | undefined): string | undefined {
  const value = followed(node);
  if (!value) return undefined;
  if (Node.isStringLiteral(value) || Node.isNoSubstitutionTemplateLiteral(value)) return value.getText();
  if (Node.isPropertyAccessExpression(value) || Node.isElementAccessExpression(value)) {
    return /^process\.env(\.\w+|\[["']\w+["']\])$/.test(value.getText().replace(/\s/g, "")) ? value.getText() : undefined;
  }
  if (Node.isBinaryExpression(value) && /^(\?\?|\|\|)$/.test(value.getOperatorToken().getText())) {
    // `??` next to `||` needs parentheses; they are kept around any inner operator.
    const side = (child: Node) => {
      const text = portable(child);
      return text !== undefined && Node.isBinaryExpression(followed(child)) ? `(${text})` : text;
    };
    const left = side(value.getLeft());
    const right = side(value.getRight());
    return left && right ? `${left} ${value.getOperatorToken().getText()} ${right}` : undefined;
  }
  if (Node.isTemplateExpression(value)) {
    const spans = value.getTemplateSpans();
    const parts = spans.map((span) => portable(span.getExpression()));
    if (parts.some((part) => part === undefined)) return undefined;
    const raw = spans.map((span, i) => span.getLiteral().getText().slice(1, i === spans.length - 1 ? -1 : -2));
    return `${value.getHead().getText().slice(0, -2)}${parts.map((part, i) => `\${${part}}${raw[i]}`).join("")}\``;
  }
  return undefined;
}
