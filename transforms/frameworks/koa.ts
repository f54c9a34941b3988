import { Node } from "../../src/languages/typescript/ts-morph.js";
import type { CallExpression } from "ts-morph";
import type { FrameworkAdapter, RouteRegistration } from "./adapter.js";
import {
  constructs,
  findVariable,
  firstCallStatement,
  handlersOf,
  importsModule,
  methodRoute,
  METRICS_PATH,
  parameterName,
  readInHandler,
  semicolon,
  servesMetricsPath,
  statementOf,
  routesIn,
} from "./shared.js";

const MODULES = ["koa", "@koa/router", "koa-router"];
const APP = /^(Koa|koa|require\(["']koa["']\))$/;
const ROUTER = /^(Router|KoaRouter|require\(["'](@koa\/router|koa-router)["']\))$/;

export const koa: FrameworkAdapter = {
  name: "koa",
  language: "typescript",
  modules: MODULES,
  errorResponder: "koa",
  errorWrapper: "handleLlmErrors",

  detect(files) {
    return files.some((file) => importsModule(file, MODULES));
  },

  findRoutes(file) {
    return routesIn(file, (call) => methodRoute(call, (receiver) => made(receiver, ROUTER)) ?? middleware(call));
  },

  clientAddress(handler) {
    const ctx = parameterName(handler, 0);
    return ctx && `${ctx}.ip`;
  },

  userKey(handler) {
    const ctx = parameterName(handler, 0);
    // Optional chaining: the key is read before the handler's own checks on the user run.
    return ctx && readInHandler(handler, new RegExp(`^${ctx}\\.state\\.user\\??\\.id$`)) && `${ctx}.state.user?.id`;
  },

  placeMetricsRoute(files, entryFile) {
    // Middleware on the app rather than a route on a router: a router may be mounted under a prefix.
    const app = findVariable(files, entryFile, (init) => constructs(init, APP));
    if (!app) return undefined;
    const file = app.getSourceFile();
    const before =
      firstCallStatement(file, app.getName(), (method, call) => method === "use" && answersRequests(call)) ??
      firstCallStatement(file, app.getName(), (method) => method === "listen");
    return before ? { receiver: app.getName(), before } : undefined;
  },

  hasMetricsRoute: servesMetricsPath,

  metricsRoute({ receiver }, { quote: q, indent, semicolons }) {
    const end = semicolon(semicolons);
    return [
      `${receiver}.use(async (ctx, next) => {`,
      `${indent}if (ctx.method !== ${q}GET${q} || ctx.path !== ${q}${METRICS_PATH}${q}) return next()${end}`,
      `${indent}const metrics = await llmMetricsResponse({ query: ctx.query, headers: ctx.headers })${end}`,
      `${indent}ctx.status = metrics.status${end}`,
      `${indent}ctx.type = metrics.contentType${end}`,
      `${indent}ctx.body = metrics.body${end}`,
      `})${end}`,
    ].join("\n");
  },
};

function made(receiver: Node, factory: RegExp): boolean {
  if (!Node.isIdentifier(receiver)) return false;
  return (receiver.getSymbol()?.getDeclarations() ?? []).some((d) => Node.isVariableDeclaration(d) && constructs(d.getInitializer(), factory));
}

/** `app.use(async (ctx, next) => …)`: middleware that may call the model. */
function middleware(call: CallExpression): RouteRegistration | undefined {
  const callee = call.getExpression();
  if (!Node.isPropertyAccessExpression(callee) || callee.getName() !== "use") return undefined;
  const receiver = callee.getExpression();
  if (!made(receiver, APP) && !made(receiver, ROUTER)) return undefined;
  const handlers = handlersOf(call.getArguments());
  const statement = statementOf(call);
  if (!handlers.length || !statement) return undefined;
  return { call, receiver: receiver.getText(), receiverNode: receiver, method: "use", statement, handlers };
}

/**
 * Middleware that may answer a request: a function, routes, or a factory's middleware
 * (`spaFallback(html)`, `serve("public")` may be catch-alls). Only the well-known factories that
 * prepare the request and pass it on (`bodyParser()`, `cors()`) are left before the metrics route.
 */
const PREPARES = /^(bodyParser|bodyparser|koaBody|body|json|cors|helmet|logger|compress|conditional|etag|responseTime|requestId|session)$/;

function answersRequests(call: CallExpression): boolean {
  return call.getArguments().some((a) => !Node.isCallExpression(a) || !PREPARES.test(a.getExpression().getText().replace(/^.*\./, "")));
}
