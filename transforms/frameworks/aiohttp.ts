import { children, decoratorsOf, descendants, parametersOf, type PythonNode } from "../../src/languages/python/parse.js";
import type { PythonApp, PythonFrameworkAdapter, PythonRoute } from "./python-adapter.js";

const ROUTE_METHODS = new Set(["get", "post", "put", "patch", "delete", "head", "options", "view", "route"]);
/** `app.router.add_post("/chat", chat)`, `web.post("/chat", chat)` in `app.add_routes([...])`. */
const REGISTRATION = /^(?:(\w+(?:\.\w+)*)\.router\.add_(get|post|put|patch|delete|route|view)|(?:aiohttp\.)?web\.(get|post|put|patch|delete|route|view))$/;

/** aiohttp.web: handlers are `async def handler(request)`, registered on a RouteTableDef or the app's router. */
export const aiohttp: PythonFrameworkAdapter = {
  language: "python",
  name: "aiohttp",
  modules: ["aiohttp"],

  detect(files) {
    return files.some((file) => /^\s*(from\s+aiohttp(\.web)?\s+import|import\s+aiohttp)\b/m.test(file.getFullText()));
  },

  /** Every module-level `app = web.Application(...)`. */
  findApps(files) {
    const apps: PythonApp[] = [];
    for (const file of files.filter((f) => aiohttp.detect([f]))) {
      for (const statement of children(file.root)) {
        const assignment = statement.type === "expression_statement" ? children(statement)[0] : undefined;
        const value = assignment?.type === "assignment" ? assignment.childForFieldName("right") : undefined;
        const target = assignment?.childForFieldName("left");
        const fn = value?.type === "call" ? value.childForFieldName("function")?.text : undefined;
        if (target?.type === "identifier" && fn !== undefined && /^((aiohttp\.)?web\.)?Application$/.test(fn)) apps.push({ file, name: target.text, statement });
      }
    }
    return apps;
  },

  findRoutes(file) {
    if (!aiohttp.detect([file])) return [];
    const defs = new Map(descendants(file.root, "function_definition").map((fn) => [fn.childForFieldName("name")!.text, fn]));
    const routes: PythonRoute[] = [];
    for (const fn of defs.values()) {
      for (const decorator of decoratorsOf(fn)) {
        const callee = decorator.type === "call" ? decorator.childForFieldName("function") : undefined;
        const method = callee?.type === "attribute" ? callee.childForFieldName("attribute")!.text : "";
        if (!ROUTE_METHODS.has(method)) continue;
        routes.push({ file, statement: fn.parent!, fn, receiver: callee!.childForFieldName("object")!.text, method, path: firstString(decorator) });
      }
    }
    for (const call of descendants(file.root, "call")) {
      const match = REGISTRATION.exec(call.childForFieldName("function")?.text ?? "");
      const args = children(call.childForFieldName("arguments")!).filter((a) => a.type !== "comment");
      const fn = defs.get(args.at(-1)?.text ?? "");
      if (!match || !fn) continue;
      const method = (match[2] ?? match[3])!;
      const path = method === "route" ? args[1] : args[0];
      routes.push({ file, statement: statementOf(call), fn, receiver: match[1] ?? "web", method, path: path && stringValue(path) });
    }
    return routes;
  },

  /** aiohttp's peer address: `request.remote`, for a handler that takes the request (named so, or annotated `web.Request`). */
  clientAddress(fn) {
    const request = parametersOf(fn).find((p) => /^(\w+\.)*(Base)?Request$/.test(p.annotation ?? "") || /^(request|req)$/.test(p.name));
    return request && `${request.name}.remote`;
  },

  hasMetricsRoute(files) {
    return files.some((file) => aiohttp.findRoutes(file).some((route) => route.method === "get" && route.path === "/metrics/llm"));
  },

  hasErrorHandler(files) {
    return files.some((file) => /\bexcept\s+LlmError\b/.test(file.getFullText()));
  },

  /** Right after the app is built: before any route or sub-app is added to it, so that none answers first. */
  placeAddition(app) {
    return { index: app.statement.endIndex, prefix: "\n\n\n", suffix: "" };
  },

  metricsRoute(app, indent) {
    return [
      "async def llm_metrics(request):",
      `${indent}status, content_type, body = metrics_response(format=request.query.get("format"), headers=request.headers)`,
      `${indent}return web.Response(status=status, body=body.encode(), headers={"Content-Type": content_type})`,
      "",
      "",
      `${app}.router.add_get("/metrics/llm", llm_metrics)`,
    ].join("\n");
  },

  errorHandler(app, indent) {
    return [
      "@web.middleware",
      "async def llm_unavailable(request, handler):",
      `${indent}try:`,
      `${indent}${indent}return await handler(request)`,
      `${indent}except LlmError as exc:`,
      `${indent}${indent}status, headers, body = llm_http_error(exc)  # every LlmError is retryable: 503 + Retry-After`,
      `${indent}${indent}return web.json_response(body, status=status, headers=headers)`,
      "",
      "",
      `${app}.middlewares.append(llm_unavailable)`,
    ].join("\n");
  },

  requestKeyMiddleware(app, indent) {
    return [
      "@web.middleware",
      "async def llm_request_key(request, handler):",
      `${indent}set_llm_request_key(request.headers.get("x-user-id") or request.remote)`,
      `${indent}return await handler(request)`,
      "",
      "",
      `${app}.middlewares.append(llm_request_key)`,
    ].join("\n");
  },

  routeImports: [{ module: "aiohttp", names: ["web"], standardLibrary: false }],
};

function firstString(call: PythonNode): string | undefined {
  const first = children(call.childForFieldName("arguments")!)[0];
  return first && stringValue(first);
}

function stringValue(node: PythonNode): string | undefined {
  return node.type === "string" ? node.text.replace(/^[rbu]*(["'])(.*)\1$/is, "$2") : undefined;
}

/** The module-level statement that holds a registration call. */
function statementOf(node: PythonNode): PythonNode {
  let at = node;
  while (at.parent && at.parent.type !== "module") at = at.parent;
  return at;
}
