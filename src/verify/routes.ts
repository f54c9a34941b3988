/**
 * Which route of the server calls the model: the handler around each call site the migration
 * reports, found by the same framework adapters the transforms use, in the files the scan loaded.
 */
import { Node } from "../languages/typescript/ts-morph.js";
import type { SourceFile } from "ts-morph";
import { migrateTypeScriptProject } from "../../transforms/index.js";
import { detectFramework } from "../../transforms/frameworks/index.js";
import type { RouteRegistration } from "../../transforms/types.js";
import { detectPythonFramework, type PythonFrameworkAdapter } from "../../transforms/frameworks/python-frameworks.js";
import { migratePythonProject } from "../../transforms/python/index.js";
import type { PythonSourceFile } from "../languages/python/parse.js";
import type { CallSiteReport } from "../../transforms/types.js";
import { planMigration, toRelative } from "../engine/index.js";
import { formatRoute, type Route } from "./route.js";

export { formatRoute, parseRoute, type Route } from "./route.js";

export interface ModelRoutes {
  /** Routes whose handler calls the model through the gate (or would, once applied), first found first. */
  routes: Route[];
  /** Call sites `apply` would still rewrite: the folder is not (fully) migrated. */
  notGated: { file: string; line: number; callee: string }[];
}

/** Settings do not change which call sites a scan finds. */
const SCAN_SETTINGS = { poolSize: 10, canaryPercent: 100 };

interface HandlerSpan {
  file: string;
  startLine: number;
  endLine: number;
  route: Route;
}

function literalPath(registration: RouteRegistration): string | undefined {
  const [first] = registration.call.getArguments();
  return Node.isStringLiteral(first) || Node.isNoSubstitutionTemplateLiteral(first) ? first.getLiteralText() : undefined;
}

function handlerSpans(rootDir: string, files: SourceFile[]): HandlerSpan[] {
  const framework = detectFramework(files);
  if (!framework) return [];
  const spans: HandlerSpan[] = [];
  for (const file of files) {
    for (const registration of framework.findRoutes(file)) {
      const path = literalPath(registration);
      if (path === undefined || registration.method === "use") continue;
      // `app.all` answers any method; POST is what a chat client sends.
      const method = registration.method === "all" ? "POST" : registration.method === "del" ? "DELETE" : registration.method.toUpperCase();
      for (const handler of registration.handlers) {
        spans.push({
          file: toRelative(rootDir, file.getFilePath()),
          startLine: handler.fn.getStartLineNumber(),
          endLine: handler.fn.getEndLineNumber(),
          route: { method, path },
        });
      }
    }
  }
  return spans;
}

/** The innermost handler around the call site. */
function routeAround(site: CallSiteReport, spans: HandlerSpan[]): Route | undefined {
  const around = spans.filter((s) => s.file === site.file && s.startLine <= site.line && site.line <= s.endLine);
  around.sort((a, b) => a.endLine - a.startLine - (b.endLine - b.startLine));
  return around[0]?.route;
}

function unique(routes: Route[]): Route[] {
  const seen = new Set<string>();
  return routes.filter((route) => !seen.has(formatRoute(route)) && Boolean(seen.add(formatRoute(route))));
}

export async function findTypeScriptModelRoutes(dir: string): Promise<ModelRoutes> {
  let spans: HandlerSpan[] = [];
  // Planning (as scan does) reports every call site; the routes are read from the same loaded
  // project before the transforms edit it in memory, so call-site lines and spans agree.
  const plan = await planMigration(
    dir,
    SCAN_SETTINGS,
    {
      format: false,
      migrate: (input) => {
        const files = input.project.getSourceFiles().filter((f) => !f.isDeclarationFile() && !f.getFilePath().includes("/node_modules/"));
        spans = handlerSpans(input.rootDir, files);
        return migrateTypeScriptProject(input);
      },
    },
  );
  return modelRoutes(plan.outcome.callSites, spans);
}

function modelRoutes(callSites: CallSiteReport[], spans: HandlerSpan[]): ModelRoutes {
  const sites = callSites.filter((site) => site.state !== "left");
  return {
    routes: unique(sites.map((site) => routeAround(site, spans)).filter((route): route is Route => route !== undefined)),
    notGated: sites.filter((site) => site.state === "rewritten").map(({ file, line, callee }) => ({ file, line, callee })),
  };
}

export const PYTHON = "/usr/bin/python3";

export interface PythonApp extends ModelRoutes {
  /** `module:variable`, e.g. `app.main:app`: what uvicorn imports, or what an aiohttp runner takes. */
  apps: string[];
  /** The web framework the app is built with (`fastapi`, `aiohttp`), which decides how it is started. */
  framework?: string;
}

export async function findPythonApp(dir: string): Promise<PythonApp> {
  let spans: (HandlerSpan & { gated: boolean })[] = [];
  let apps: string[] = [];
  let framework: PythonFrameworkAdapter | undefined;
  // As for TypeScript: the routes and apps are read from the files the scan loaded, before the
  // transforms edit them, with the same framework adapter the transforms use.
  const plan = await planMigration(dir, SCAN_SETTINGS, {
    format: false,
    migrate: (input) => {
      const files = input.pythonFiles ?? [];
      framework = detectPythonFramework(files);
      apps = (framework?.findApps(files) ?? []).map(({ file, name }) => `${pythonModule(input.rootDir, file)}:${name}`);
      spans = framework ? files.flatMap((file) => pythonRouteSpans(input.rootDir, file, framework!)) : [];
      return migratePythonProject(input);
    },
  });
  const gated = spans.filter((span) => span.gated).map((span) => span.route);
  const fromSites = modelRoutes(plan.outcome.callSites, spans);
  return { apps, framework: framework?.name, routes: unique([...fromSites.routes, ...gated]), notGated: fromSites.notGated };
}

const PYTHON_ROUTE_METHODS = new Set(["get", "post", "put", "patch", "delete"]);

function pythonRouteSpans(rootDir: string, file: PythonSourceFile, framework: PythonFrameworkAdapter): (HandlerSpan & { gated: boolean })[] {
  return framework
    .findRoutes(file)
    .filter((route) => route.path !== undefined && PYTHON_ROUTE_METHODS.has(route.method))
    .map(({ fn, method, path }) => ({
      file: toRelative(rootDir, file.getFilePath()),
      startLine: fn.startPosition.row + 1,
      endLine: fn.endPosition.row + 1,
      route: { method: method.toUpperCase(), path: path! },
      gated: fn.text.includes("use_new_llm_path("),
    }));
}

/** `app/main.py` → `app.main`, `app/__init__.py` → `app`: what uvicorn imports. */
function pythonModule(rootDir: string, file: PythonSourceFile): string {
  const module = toRelative(rootDir, file.getFilePath()).replace(/\.py$/, "").split("/").join(".");
  return module.endsWith(".__init__") ? module.slice(0, -".__init__".length) : module;
}
