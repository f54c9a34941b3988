/**
 * Which route of the server calls the model: the handler around each call site the migration
 * reports. TypeScript through the engine and the framework adapters; Python through the
 * interpreter's own `ast` module (the server needs that interpreter anyway).
 */
import { execFile } from "node:child_process";
import { relative } from "node:path";
import { promisify } from "node:util";
import { Node, type SourceFile } from "ts-morph";
import { migrateTypeScriptProject } from "../../transforms/index.js";
import { detectFramework, type RouteRegistration } from "../../transforms/frameworks/index.js";
import type { CallSiteReport } from "../../transforms/types.js";
import { planMigration } from "../engine/index.js";

export interface Route {
  method: string;
  path: string;
}

export function formatRoute(route: Route): string {
  return `${route.method} ${route.path}`;
}

/** `"POST /chat"` → `{ method: "POST", path: "/chat" }`; undefined when it is not that shape. */
export function parseRoute(text: string): Route | undefined {
  const match = /^\s*([A-Za-z]+)\s+(\/\S*)\s*$/.exec(text);
  return match ? { method: match[1]!.toUpperCase(), path: match[2]! } : undefined;
}

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
          file: relative(rootDir, file.getFilePath()).split("\\").join("/"),
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

// Finds `app = FastAPI(...)` and every route function (`@app.post("/chat")`, `@router.get(...)`)
// with its lines and whether it calls `use_new_llm_path`.
const PYTHON_FINDER = String.raw`
import ast, json, os, sys
root = sys.argv[1]
methods = {"get", "post", "put", "patch", "delete"}
skip = {"node_modules", "venv", "__pycache__", "site-packages"}
apps, routes = [], []
for folder, dirs, files in os.walk(root):
    dirs[:] = sorted(d for d in dirs if d not in skip and not d.startswith("."))
    for name in sorted(files):
        if not name.endswith(".py"):
            continue
        rel = os.path.relpath(os.path.join(folder, name), root)
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as source:
                tree = ast.parse(source.read(), rel)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        module = rel[:-3].replace(os.sep, ".")
        if module.endswith(".__init__"):
            module = module[: -len(".__init__")]
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                func = node.value.func
                if getattr(func, "id", getattr(func, "attr", None)) == "FastAPI":
                    apps += [module + ":" + t.id for t in node.targets if isinstance(t, ast.Name)]
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            called = {getattr(c.func, "attr", getattr(c.func, "id", "")) for c in ast.walk(node) if isinstance(c, ast.Call)}
            for d in node.decorator_list:
                if (isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in methods
                        and d.args and isinstance(d.args[0], ast.Constant) and isinstance(d.args[0].value, str)):
                    routes.append({"file": rel.replace(os.sep, "/"), "startLine": node.lineno, "endLine": node.end_lineno,
                                   "route": {"method": d.func.attr.upper(), "path": d.args[0].value},
                                   "gated": "use_new_llm_path" in called})
print(json.dumps({"apps": apps, "routes": routes}))
`;

export const PYTHON = "/usr/bin/python3";

export interface PythonApp extends ModelRoutes {
  /** `module:variable` for uvicorn, e.g. `app.main:app`. */
  apps: string[];
}

export async function findPythonApp(dir: string, python = PYTHON): Promise<PythonApp> {
  const [{ stdout }, plan] = await Promise.all([
    promisify(execFile)(python, ["-c", PYTHON_FINDER, dir], { encoding: "utf8" }),
    planMigration(dir, SCAN_SETTINGS, { format: false }),
  ]);
  const found = JSON.parse(stdout) as { apps: string[]; routes: (HandlerSpan & { gated: boolean })[] };
  const gated = found.routes.filter((span) => span.gated).map((span) => span.route);
  const fromSites = modelRoutes(plan.outcome.callSites, found.routes);
  return { apps: found.apps, routes: unique([...fromSites.routes, ...gated]), notGated: fromSites.notGated };
}
