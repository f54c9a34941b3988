import { Node, SyntaxKind } from "../../src/languages/typescript/ts-morph.js";
import type { CallExpression, Expression, SourceFile, Statement, VariableDeclaration } from "ts-morph";
import { requiredModule } from "../../src/languages/typescript/source-style.js";
import type { FrameworkAdapter, RouteRegistration } from "./adapter.js";
import { handlersOf, HTTP_METHODS, METRICS_PATH, parameterName, statementOf, routesIn } from "./shared.js";


export const express: FrameworkAdapter = {
  name: "express",
  language: "typescript",
  modules: ["express"],
  errorResponder: "express",
  errorWrapper: "handleLlmErrors",

  detect(files) {
    return files.some((file) => importsExpress(file));
  },

  findRoutes(file) {
    const lenient = importsExpress(file);
    return routesIn(file, (call) => asRoute(call, lenient));
  },

  clientAddress(handler) {
    const request = parameterName(handler, 0);
    return request && `${request}.ip`;
  },

  placeMetricsRoute(files, entryFile, served) {
    // SPEC: the route is GET /metrics/llm, so it goes on the app itself when the model is called
    // from a router mounted under a prefix; a lone router is used only when no app is in sight.
    const ordered = entryFile ? [entryFile, ...files.filter((f) => f !== entryFile)] : files;
    const servedReceiver = served[0]?.receiverNode;
    const app =
      (servedReceiver && isApp(servedReceiver) ? declarationOf(servedReceiver) : undefined) ??
      // Module level first, then an app built inside a factory (`function createApp() { const app = express(); … }`).
      ordered.flatMap((f) => [...f.getVariableDeclarations(), ...f.getDescendantsOfKind(SyntaxKind.VariableDeclaration)]).find((d) => isAppFactory(d.getInitializer()));
    if (app) {
      const before = firstRegistration(app.getSourceFile(), app.getName()) ?? listenStatement(app.getSourceFile(), app.getName());
      return before ? { receiver: app.getName(), before } : undefined;
    }
    const route = served[0];
    if (!route) return undefined;
    const before = firstRegistration(route.call.getSourceFile(), route.receiver);
    return before ? { receiver: route.receiver, before } : undefined;
  },

  hasMetricsRoute(files) {
    return files.some((file) =>
      file.getDescendantsOfKind(SyntaxKind.StringLiteral).some((literal) => {
        const call = literal.getParent();
        return literal.getLiteralText() === METRICS_PATH && Node.isCallExpression(call) && call.getArguments()[0] === literal;
      }),
    );
  },

  metricsRoute({ receiver }, { quote: q, indent, semicolons }) {
    const end = semicolons ? ";" : "";
    return [
      `${receiver}.get(${q}${METRICS_PATH}${q}, async (req, res) => {`,
      `${indent}const metrics = await llmMetricsResponse({ query: req.query, headers: req.headers })${end}`,
      `${indent}res.status(metrics.status).type(metrics.contentType).send(metrics.body)${end}`,
      `})${end}`,
    ].join("\n");
  },
};

function importsExpress(file: SourceFile): boolean {
  if (file.getImportDeclarations().some((d) => d.getModuleSpecifierValue() === "express")) return true;
  return file.getDescendantsOfKind(SyntaxKind.CallExpression).some((call) => requiredModule(call) === "express");
}

/** `express()`, `express.Router()`, `Router()`, `require("express")()`. */
function isAppOrRouterFactory(expression: Node | undefined): boolean {
  if (!Node.isCallExpression(expression)) return false;
  const callee = expression.getExpression().getText().replace(/\s/g, "");
  return /^(express|express\.Router|Router|require\(["']express["']\)(\.Router)?)$/.test(callee);
}

/** `express()` or `require("express")()`: an app, not a router. */
function isAppFactory(expression: Node | undefined): boolean {
  if (!Node.isCallExpression(expression)) return false;
  return /^(express|require\(["']express["']\))$/.test(expression.getExpression().getText().replace(/\s/g, ""));
}

function declarationOf(identifier: Node): VariableDeclaration | undefined {
  return identifier.getSymbol()?.getDeclarations().find(Node.isVariableDeclaration);
}

function isApp(receiver: Node): boolean {
  return isAppFactory(declarationOf(receiver)?.getInitializer());
}

/**
 * The first statement that registers a route, mounts a router or adds a handler on `receiver`.
 * Middleware made by a factory call (`app.use(express.json())`) does not answer requests, so
 * the metrics route may come after it.
 */
function firstRegistration(file: SourceFile, receiver: string): Statement | undefined {
  for (const call of file.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    const callee = call.getExpression();
    if (!Node.isPropertyAccessExpression(callee) || callee.getExpression().getText() !== receiver) continue;
    const method = callee.getName();
    const registers =
      HTTP_METHODS.has(method) || method === "route" || (method === "use" && call.getArguments().some((a) => !Node.isCallExpression(a)));
    if (registers) return statementOf(call);
  }
  return undefined;
}

function listenStatement(file: SourceFile, receiver: string): Statement | undefined {
  const call = file
    .getDescendantsOfKind(SyntaxKind.CallExpression)
    .find((c) => c.getExpression().getText().replace(/\s/g, "") === `${receiver}.listen`);
  return call && statementOf(call);
}


function isKnownAppOrRouter(receiver: Node): boolean {
  if (!Node.isIdentifier(receiver)) return false;
  return (receiver.getSymbol()?.getDeclarations() ?? []).some(
    (d) => Node.isVariableDeclaration(d) && isAppOrRouterFactory(d.getInitializer()),
  );
}

function asRoute(call: CallExpression, lenient: boolean): RouteRegistration | undefined {
  const callee = call.getExpression();
  if (!Node.isPropertyAccessExpression(callee)) return undefined;
  const method = callee.getName();
  if (!HTTP_METHODS.has(method) && method !== "use") return undefined;
  let receiver: Node = callee.getExpression();
  // app.route("/chat").post(handler)
  const routeCall = Node.isCallExpression(receiver) ? receiver.getExpression() : undefined;
  if (Node.isPropertyAccessExpression(routeCall) && routeCall.getName() === "route") receiver = routeCall.getExpression();
  const args = call.getArguments() as Expression[];
  const [first] = args;
  const hasPath = first !== undefined && isPathArgument(first);
  if (!isKnownAppOrRouter(receiver)) {
    const pathLiteral = Node.isStringLiteral(first) && first.getLiteralText().startsWith("/");
    if (!lenient || !pathLiteral) return undefined;
  }
  if (HTTP_METHODS.has(method) && !hasPath && !Node.isCallExpression(callee.getExpression())) return undefined;
  const handlers = handlersOf(args.slice(hasPath ? 1 : 0));
  if (handlers.length === 0) return undefined;
  const statement = statementOf(call);
  if (!statement) return undefined;
  return { call, receiver: receiver.getText(), receiverNode: receiver, method, statement, handlers };
}

function isPathArgument(node: Node): boolean {
  return (
    Node.isStringLiteral(node) ||
    Node.isNoSubstitutionTemplateLiteral(node) ||
    Node.isTemplateExpression(node) ||
    Node.isRegularExpressionLiteral(node) ||
    Node.isArrayLiteralExpression(node)
  );
}


