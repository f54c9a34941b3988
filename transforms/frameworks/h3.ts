import { posix } from "node:path";
import { Node, SyntaxKind } from "../../src/languages/typescript/ts-morph.js";
import type { CallExpression, SourceFile } from "ts-morph";
import { detectStyle, type SourceStyle } from "../../src/languages/typescript/source-style.js";
import { RUNTIME_FOLDER } from "../runtime-names.js";
import type { FrameworkAdapter, RouteRegistration } from "./adapter.js";
import {
  constructs,
  findVariable,
  firstCallStatement,
  handlersOf,
  HTTP_METHODS,
  importsModule,
  isPathLiteral,
  METRICS_PATH,
  parameterName,
  semicolon,
  servesMetricsPath,
  statementOf,
  routesIn,
} from "./shared.js";

const MODULES = ["h3"];
const APP = /^createApp$/;
const ROUTER = /^createRouter$/;
/** h3's own names for wrapping a handler: the function inside is what runs per request. */
const HANDLER_FACTORIES = new Set(["defineEventHandler", "eventHandler"]);

/**
 * h3 v1, the server of Nitro and Nuxt: `router.post("/chat", defineEventHandler(async (event) => …))`
 * on a `createRouter()`, `app.use("/path", handler)` on a `createApp()`, and Nitro's file routes
 * (`export default defineEventHandler(…)`). A handler takes one `event`; the body it returns is
 * the response.
 */
export const h3: FrameworkAdapter = {
  name: "h3",
  language: "typescript",
  modules: MODULES,
  errorWrapper: "handleLlmErrors",
  errorResponder: "h3",

  // Nuxt and Nitro import defineEventHandler for the project: a file route may import nothing.
  detect(files) {
    return files.some((file) => importsModule(file, MODULES) || fileRoutes(file).length > 0);
  },

  findRoutes(file) {
    if (!importsModule(file, MODULES) && !file.getDescendantsOfKind(SyntaxKind.CallExpression).some(isHandlerFactory)) return [];
    return [...routesIn(file, registration), ...fileRoutes(file)];
  },

  clientAddress(handler) {
    const event = parameterName(handler, 0);
    return event && `${event}.node.req.socket.remoteAddress`;
  },

  placeMetricsRoute(files, entryFile) {
    const router = findVariable(files, entryFile, (init) => constructs(init, ROUTER));
    if (!router) return undefined;
    const before = firstCallStatement(router.getSourceFile(), router.getName(), (method) => HTTP_METHODS.has(method) || method === "use" || method === "add");
    return before ? { receiver: router.getName(), before } : undefined;
  },

  hasMetricsRoute(files) {
    return servesMetricsPath(files) || files.some((file) => METRICS_FILE.test(file.getFilePath()));
  },

  metricsRoute({ receiver, before }, style) {
    const { quote: q, semicolons } = style;
    const factory = importedHandlerFactory(before.getSourceFile());
    const handler = metricsHandler(style);
    return `${receiver}.get(${q}${METRICS_PATH}${q}, ${factory ? `${factory}(${handler})` : handler})${semicolon(semicolons)}`;
  },

  // Nitro serves every file under api/ and routes/: the runtime goes in utils/, which it does not.
  runtimeHome(files) {
    const dir = nitroServerDir(files);
    return dir && posix.join(dir, "utils");
  },

  // Nitro runs each plugin once when the server starts: the client starts there.
  startupFile(files) {
    const dir = nitroServerDir(files);
    if (!dir) return undefined;
    const { quote: q, semicolons } = detectStyle(files.find((file) => fileRoutes(file).length)!);
    const end = semicolon(semicolons);
    return {
      path: posix.join(dir, "plugins", `llm-runtime${routeExtension(files)}`),
      text: [
        `import { getAsyncLlmClient } from ${q}../utils/${RUNTIME_FOLDER}/index.js${q}${end}`,
        ``,
        `// Nitro runs this plugin once, when the server starts.`,
        `export default () => {}${end}`,
        ``,
      ].join("\n"),
    };
  },

  metricsRouteFile(files, style) {
    const dir = nitroServerDir(files);
    if (!dir) return undefined;
    const { quote: q, semicolons } = style;
    const end = semicolon(semicolons);
    return {
      path: posix.join(dir, "routes", "metrics", `llm.get${routeExtension(files)}`),
      text: `import { defineEventHandler } from ${q}h3${q}${end}\n\nexport default defineEventHandler(${metricsHandler(style)})${end}\n`,
    };
  },
};

/** .ts or .js, as the project's file routes are written. */
function routeExtension(files: readonly SourceFile[]): string {
  return files.some((file) => fileRoutes(file).length && /^\.[cm]?ts$/.test(file.getExtension())) ? ".ts" : ".js";
}

/** Nitro's file route for GET /metrics/llm. */
const METRICS_FILE = /\/routes\/metrics\/llm\.get\.[cm]?[jt]s$/;

/** The handler that serves the runtime's metrics: the body it returns is the response. */
function metricsHandler({ quote: q, indent, semicolons }: SourceStyle): string {
  const end = semicolon(semicolons);
  return [
    `async (event) => {`,
    `${indent}const metrics = await llmMetricsResponse({ query: new URL(event.path, ${q}http://localhost${q}).searchParams, headers: event.node.req.headers })${end}`,
    `${indent}event.node.res.statusCode = metrics.status${end}`,
    `${indent}event.node.res.setHeader(${q}content-type${q}, metrics.contentType)${end}`,
    `${indent}return metrics.body${end}`,
    `}`,
  ].join("\n");
}

/**
 * The folder that holds Nitro's api/ or routes/ above a file route: `server/` in Nuxt, the source
 * root in Nitro itself. Undefined when the project has no file routes.
 */
function nitroServerDir(files: readonly SourceFile[]): string | undefined {
  for (const file of files) {
    if (!fileRoutes(file).length) continue;
    const parts = file.getDirectoryPath().split("/");
    const at = Math.max(parts.lastIndexOf("api"), parts.lastIndexOf("routes"));
    if (at > 0) return parts.slice(0, at).join("/");
  }
  return undefined;
}

function isHandlerFactory(call: CallExpression): boolean {
  return HANDLER_FACTORIES.has(call.getExpression().getText());
}

/** The handler a registration passes: the function inside `defineEventHandler(…)`, or the function itself. */
function handlerArguments(argument: Node): Node[] {
  if (Node.isCallExpression(argument) && isHandlerFactory(argument)) return argument.getArguments().slice(0, 1);
  return [argument];
}

/** `router.post("/chat", handler)` on a `createRouter()`, `app.use("/chat", handler)` on a `createApp()`. */
function registration(call: CallExpression): RouteRegistration | undefined {
  const callee = call.getExpression();
  if (!Node.isPropertyAccessExpression(callee)) return undefined;
  const method = callee.getName();
  const receiver = callee.getExpression();
  const [path, handler, ...rest] = call.getArguments();
  if (!isPathLiteral(path) || !handler) return undefined;
  const made = madeBy(receiver);
  const isRoute = (made === "router" && (HTTP_METHODS.has(method) || method === "use")) || (made === "app" && method === "use");
  if (!isRoute) return undefined;
  const handlers = handlersOf([handler, ...rest].flatMap(handlerArguments));
  const statement = statementOf(call);
  if (!handlers.length || !statement) return undefined;
  return { call, receiver: receiver.getText(), receiverNode: receiver, method, statement, handlers };
}

/** Nitro's file routes: `export default defineEventHandler(…)`, the method taken from the file name. */
function fileRoutes(file: SourceFile): RouteRegistration[] {
  const routes: RouteRegistration[] = [];
  for (const assignment of file.getExportAssignments()) {
    const call = assignment.getExpression();
    if (!Node.isCallExpression(call) || !isHandlerFactory(call)) continue;
    const handlers = handlersOf(handlerArguments(call));
    if (!handlers.length) continue;
    const method = /\.(get|post|put|patch|delete)\.[cm]?[jt]s$/.exec(file.getBaseName())?.[1] ?? "all";
    routes.push({ call, receiver: "export default", receiverNode: call, method, statement: assignment, handlers });
  }
  return routes;
}

function madeBy(receiver: Node): "app" | "router" | undefined {
  if (!Node.isIdentifier(receiver)) return undefined;
  for (const declaration of receiver.getSymbol()?.getDeclarations() ?? []) {
    if (!Node.isVariableDeclaration(declaration)) continue;
    if (constructs(declaration.getInitializer(), ROUTER)) return "router";
    if (constructs(declaration.getInitializer(), APP)) return "app";
  }
  return undefined;
}

/** The local name under which the file imports h3's handler factory, if it does. */
function importedHandlerFactory(file: SourceFile): string | undefined {
  for (const declaration of file.getImportDeclarations()) {
    if (declaration.getModuleSpecifierValue() !== "h3") continue;
    const named = declaration.getNamedImports().find((n) => HANDLER_FACTORIES.has(n.getName()));
    if (named) return named.getAliasNode()?.getText() ?? named.getName();
  }
  return undefined;
}
