import { children, decoratorsOf, descendants, lineStartOf, parametersOf, type PythonNode, type PythonSourceFile } from "../../src/languages/python/parse.js";
import type { AdditionPlace, PythonApp, PythonFrameworkAdapter, PythonRoute } from "./python-adapter.js";

const ROUTE_METHODS = new Set(["get", "post", "put", "patch", "delete", "options", "head", "api_route", "websocket"]);

export type FastApiApp = PythonApp;
export type FastApiRoute = PythonRoute;

/** What the Python transforms need to know about FastAPI. */
export const fastapi: PythonFrameworkAdapter = {
  language: "python",
  name: "fastapi",
  modules: ["fastapi"],

  detect(files: readonly PythonSourceFile[]): boolean {
    return files.some((file) => /^\s*(from\s+fastapi(\.\w+)*\s+import|import\s+fastapi)\b/m.test(file.getFullText()));
  },

  /** Every module-level `name = FastAPI(...)`, in file order. */
  findApps(files: readonly PythonSourceFile[]): FastApiApp[] {
    const apps: FastApiApp[] = [];
    for (const file of files) {
      for (const statement of children(file.root)) {
        const assignment = statement.type === "expression_statement" ? children(statement)[0] : undefined;
        const value = assignment?.type === "assignment" ? assignment.childForFieldName("right") : undefined;
        const target = assignment?.childForFieldName("left");
        const fn = value?.type === "call" ? value.childForFieldName("function")?.text : undefined;
        if (target?.type === "identifier" && (fn === "FastAPI" || fn === "fastapi.FastAPI")) apps.push({ file, name: target.text, statement });
      }
    }
    return apps;
  },

  /** Starlette's peer address, when the route takes a `Request` (any name, `fastapi.Request` too) or a `WebSocket`. */
  clientAddress(fn: PythonNode): string | undefined {
    const request = parametersOf(fn).find((p) => /^(\w+\.)*(Request|WebSocket)$/.test(p.annotation ?? ""));
    // Starlette types `client` as Optional: no peer address behind a Unix socket or some ASGI test transports.
    return request ? `${request.name}.client.host if ${request.name}.client else None` : undefined;
  },

  /**
   * Before the first route, router or mount registered on the app in its own module (FastAPI matches
   * in registration order); else two lines below the app itself.
   */
  placeAddition(app: PythonApp, routes: readonly PythonRoute[], skip: (path: string | undefined) => boolean = () => false): AdditionPlace {
    const text = app.file.getFullText();
    const starts = routes.filter((r) => r.file === app.file && r.receiver === app.name && !skip(r.path)).map((r) => r.statement.startIndex);
    const includes = [...text.matchAll(new RegExp(`^${app.name}\\.(include_router|mount)\\(`, "gm"))].map((m) => m.index);
    const first = Math.min(...starts, ...includes);
    if (Number.isFinite(first) && first > app.statement.startIndex) {
      const index = lineStartOf(text, first);
      // Two blank lines on both sides, as PEP 8 puts them around top-level definitions.
      const blankLinesBefore = /\n*$/.exec(text.slice(0, index))![0].length - 1;
      return { index, prefix: "\n".repeat(Math.max(0, 2 - blankLinesBefore)), suffix: "\n\n\n" };
    }
    return { index: app.statement.endIndex, prefix: "\n\n\n", suffix: "" };
  },

  findRoutes(file: PythonSourceFile): FastApiRoute[] {
    const routes: FastApiRoute[] = [];
    for (const fn of descendants(file.root, "function_definition")) {
      for (const decorator of decoratorsOf(fn)) {
        const route = routeOf(decorator);
        if (route) routes.push({ file, statement: fn.parent!, fn, ...route });
      }
    }
    return routes;
  },

  hasMetricsRoute(files: readonly PythonSourceFile[]): boolean {
    return files.some((file) => fastapi.findRoutes(file).some((route) => route.method === "get" && route.path === "/metrics/llm"));
  },

  hasErrorHandler(files: readonly PythonSourceFile[]): boolean {
    return files.some((file) => /\.exception_handler\(\s*LlmError\s*\)/.test(file.getFullText()));
  },

  /** GET /metrics/llm in FastAPI's idiom, as runtime/python/README.md shows it. */
  metricsRoute(app: string, indent: string): string {
    return [
      `@${app}.get("/metrics/llm")`,
      "async def llm_metrics(request: Request, format: Optional[str] = None):",
      `${indent}status, content_type, body = metrics_response(format=format, headers=request.headers)`,
      `${indent}return Response(body, status_code=status, media_type=content_type)`,
    ].join("\n");
  },

  /** The runtime's retryable errors (full queue, deadline, shedding) as 503 + Retry-After. */
  errorHandler(app: string, indent: string): string {
    return [
      `@${app}.exception_handler(LlmError)`,
      "async def llm_unavailable(request: Request, exc: LlmError):",
      `${indent}status, headers, body = llm_http_error(exc)  # every LlmError is retryable: 503 + Retry-After`,
      `${indent}return JSONResponse(body, status_code=status, headers=headers)`,
    ].join("\n");
  },

  requestKeyMiddleware(app: string, indent: string): string {
    return [
      `@${app}.middleware("http")`,
      "async def llm_request_key(request: Request, call_next):",
      `${indent}set_llm_request_key(request.headers.get("x-user-id") or (request.client.host if request.client else None))`,
      `${indent}return await call_next(request)  # the request's task copies the key, and so does asyncio.to_thread`,
    ].join("\n");
  },

  /** The FastAPI and typing names the metrics route and the error handler use. */
  routeImports: [
    { module: "typing", names: ["Optional"], standardLibrary: true },
    { module: "fastapi", names: ["Request"], standardLibrary: false },
    { module: "fastapi.responses", names: ["JSONResponse", "Response"], standardLibrary: false },
  ],
};

function routeOf(decorator: PythonNode): Pick<FastApiRoute, "receiver" | "method" | "path"> | undefined {
  if (decorator.type !== "call") return undefined;
  const fn = decorator.childForFieldName("function");
  if (fn?.type !== "attribute") return undefined;
  const method = fn.childForFieldName("attribute")?.text ?? "";
  if (!ROUTE_METHODS.has(method)) return undefined;
  const first = children(decorator.childForFieldName("arguments")!)[0];
  const path = first?.type === "string" ? first.text.replace(/^[rbuf]*(["'])(.*)\1$/is, "$2") : undefined;
  return { receiver: fn.childForFieldName("object")!.text, method, path };
}
