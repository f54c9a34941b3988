import type { PythonNode, PythonSourceFile } from "../../src/languages/python/parse.js";

/** The app object the metrics route and the error handler are added to (`app = FastAPI()`, `app = web.Application()`). */
export interface PythonApp {
  file: PythonSourceFile;
  name: string;
  statement: PythonNode;
}

/** A function the framework calls with a request (`@app.post("/chat")`, `@routes.post("/chat")`, `app.router.add_post("/chat", chat)`). */
export interface PythonRoute {
  file: PythonSourceFile;
  /** The statement that registers it; new routes go before it. */
  statement: PythonNode;
  fn: PythonNode;
  receiver: string;
  method: string;
  path?: string;
}

/** Where an addition goes in the app's module, with the blank lines around it. */
export interface AdditionPlace {
  index: number;
  prefix: string;
  suffix: string;
}

/** A module-level import the additions need. */
export interface RouteImport {
  module: string;
  names: readonly string[];
  standardLibrary: boolean;
}

/**
 * What the Python transforms need to know about one web framework: the only place that names it.
 * A new Python framework is one file implementing this, listed in python-frameworks.ts.
 */
export interface PythonFrameworkAdapter {
  language: "python";
  name: string;
  /** Modules whose import says a project uses the framework (also words worth reading a file for). */
  modules: readonly string[];
  detect(files: readonly PythonSourceFile[]): boolean;
  /** Every module-level app object, in file order. */
  findApps(files: readonly PythonSourceFile[]): PythonApp[];
  findRoutes(file: PythonSourceFile): PythonRoute[];
  /** The client address of a handler's request, as a Python expression; undefined when it takes none. */
  clientAddress(fn: PythonNode): string | undefined;
  hasMetricsRoute(files: readonly PythonSourceFile[]): boolean;
  hasErrorHandler(files: readonly PythonSourceFile[]): boolean;
  /** Where additions go so that no route registered earlier (a catch-all) answers first. */
  placeAddition(app: PythonApp, routes: readonly PythonRoute[], skip?: (path: string | undefined) => boolean): AdditionPlace;
  /** GET /metrics/llm in the framework's idiom, using the runtime's `metrics_response`. */
  metricsRoute(app: string, indent: string): string;
  /** The runtime's retryable errors (`LlmError`) as 503 + Retry-After, using `llm_http_error`. */
  errorHandler(app: string, indent: string): string;
  /**
   * A middleware that sets each request's canary key (its `x-user-id` header, else the client
   * address) with the runtime's `set_llm_request_key`, for gated calls that have no key in scope.
   */
  requestKeyMiddleware(app: string, indent: string): string;
  /** What the metrics route, the error handler and the middleware import. */
  routeImports: readonly RouteImport[];
}
