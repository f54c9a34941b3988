import { children, decoratorsOf, descendants, type PythonNode, type PythonSourceFile } from "../../src/languages/python/parse.js";

const ROUTE_METHODS = new Set(["get", "post", "put", "patch", "delete", "options", "head", "api_route", "websocket"]);

/** `app = FastAPI(...)`: the app the metrics route and the error handler are added to. */
export interface FastApiApp {
  file: PythonSourceFile;
  name: string;
  statement: PythonNode;
}

/** A function registered with `@app.post("/chat")` or `@router.get(...)`. */
export interface FastApiRoute {
  file: PythonSourceFile;
  /** The `decorated_definition` statement; new routes go before it. */
  statement: PythonNode;
  fn: PythonNode;
  receiver: string;
  method: string;
  path?: string;
}

/** What the Python transforms need to know about FastAPI: the one Python web framework supported. */
export const fastapi = {
  name: "fastapi",

  detect(files: readonly PythonSourceFile[]): boolean {
    return files.some((file) => /^\s*(from\s+fastapi(\.\w+)*\s+import|import\s+fastapi)\b/m.test(file.getFullText()));
  },

  findApp(files: readonly PythonSourceFile[]): FastApiApp | undefined {
    return fastapi.findApps(files)[0];
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
      `${indent}status, content_type, body = metrics_response(format=format, accept=request.headers.get("accept"))`,
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

  /** The FastAPI and typing names the metrics route and the error handler use. */
  routeImports: [
    { module: "typing", names: ["Optional"], standardLibrary: true },
    { module: "fastapi", names: ["Request"], standardLibrary: false },
    { module: "fastapi.responses", names: ["JSONResponse", "Response"], standardLibrary: false },
  ],
} as const;

export type PythonFrameworkAdapter = typeof fastapi;

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
