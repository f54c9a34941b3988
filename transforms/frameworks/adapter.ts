import type { CallExpression, Expression, Node, SourceFile, Statement } from "ts-morph";
import type { SourceStyle } from "../../src/languages/typescript/source-style.js";
import type { RuntimeName } from "../runtime-names.js";

/** A function the framework calls with a request. */
export interface RouteHandler {
  /** What the registration passes: the function itself, or a name that refers to it. */
  argument: Expression;
  /** The function (arrow, function expression or declaration, method). */
  fn: Node;
}

/** `app.post("/chat", handler)` and its kin. */
export interface RouteRegistration {
  call: CallExpression;
  /** The app or router it registers on, as written: `app`, `router`. */
  receiver: string;
  receiverNode: Node;
  /** HTTP method in lower case, or "use" for middleware. */
  method: string;
  /** The statement that holds the registration; new routes go before it. */
  statement: Statement;
  handlers: RouteHandler[];
}

/** Where `GET /metrics/llm` goes. */
export interface MetricsPlace {
  /** The app or router to register it on (Nest: the module class). */
  receiver: string;
  /** The statement to put it before. */
  before: Statement;
  /** Names the route's code uses from its surroundings (node:http: the listener's request and response). */
  parameters?: string[];
  /** Other edits the route needs, e.g. Nest's controller listed in its module. */
  edits?: TextEdit[];
}

export interface TextEdit {
  file: SourceFile;
  pos: number;
  text: string;
}

/** Code a framework needs once where the app is created (Nest: its global exception filter). */
export interface ServerSetup extends TextEdit {
  names: RuntimeName[];
}

/** What the transforms need to know about one web framework. One adapter per framework. */
export interface FrameworkAdapter {
  language: "typescript";
  name: string;
  /**
   * Modules whose import says a project uses the framework. The engine reads them too: a file
   * that names one is worth parsing.
   */
  modules: readonly string[];
  /** Whether the project uses this framework. */
  detect(files: readonly SourceFile[]): boolean;
  /** Every route and middleware registration in the file. */
  findRoutes(file: SourceFile): RouteRegistration[];
  /** The client address as seen by a handler (`req.ip`), when the handler names its request. */
  clientAddress(handler: Node): string | undefined;
  /** The user id the handler reads where this framework keeps it (`ctx.state.user.id`), if it does. */
  userKey?(handler: Node): string | undefined;
  /**
   * Runtime function to wrap handlers with so that the runtime's retryable errors become
   * 503 + Retry-After; undefined when the framework already turns rejections into responses.
   */
  errorWrapper?: "handleLlmErrors";
  /**
   * The runtime's responder (runtime/responders.ts, by name) that answers a retryable error in
   * this framework's idiom from inside the wrapped handler; a test keeps the two lists in step.
   */
  errorResponder?: string;
  /**
   * Where `GET /metrics/llm` goes: the app or router to register it on and the statement to put it
   * before, so that no catch-all registered earlier answers first. `served` are the registrations
   * whose handlers call the model.
   */
  placeMetricsRoute(
    files: readonly SourceFile[],
    entryFile: SourceFile | undefined,
    served: readonly RouteRegistration[],
  ): MetricsPlace | undefined;
  /**
   * A framework that serves files by where they are (Nitro's `server/api/`): the folder the
   * runtime folder goes in instead of beside the entry file, one it does not serve as routes.
   */
  runtimeHome?(files: readonly SourceFile[]): string | undefined;
  /**
   * When no app or router can take the metrics route: a file of its own that the framework
   * serves as `GET /metrics/llm` (Nitro's `routes/metrics/llm.get.ts`), by absolute path.
   */
  metricsRouteFile?(files: readonly SourceFile[], style: SourceStyle): { path: string; text: string } | undefined;
  /**
   * For a framework that has no entry file of the project's own (Nitro): a file it runs once at
   * start-up, where the process-wide client starts (Nitro's `plugins/llm-runtime.ts`), by absolute path.
   */
  startupFile?(files: readonly SourceFile[]): { path: string; text: string } | undefined;
  /** A prefix the framework puts before every route (Nest's `app.setGlobalPrefix("api")`), for the report. */
  routePrefix?(files: readonly SourceFile[]): string | undefined;
  /** Whether a `GET /metrics/llm` route already exists. */
  hasMetricsRoute(files: readonly SourceFile[]): boolean;
  /** Source of the metrics route at `place`, in the framework's idiom; uses `llmMetricsResponse`. */
  metricsRoute(place: MetricsPlace, style: SourceStyle): string;
  /**
   * For a framework whose handlers cannot be wrapped (Nest's decorated methods): the code that
   * turns the runtime's retryable errors into 503 + Retry-After where the app is created.
   * Undefined when it is already there.
   */
  serverSetup?(entryFile: SourceFile): ServerSetup | undefined;
}
