/** What verify boots and which route it loads, read from the server's folder (or the user's flags). */
import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { BadInputError } from "../engine/index.js";
import { findPythonApp, findTypeScriptModelRoutes, formatRoute, PYTHON, type Route } from "./routes.js";

export interface VerifyTarget {
  rootDir: string;
  /** Shell command that starts the server; it reads PORT (verify also passes --port for uvicorn). */
  start: string;
  route: Route;
  /** Other routes that call the model, not loaded. */
  otherRoutes: Route[];
  /** The body field the server reads the user id from (FastAPI examples spell it user_id). */
  userField: "userId" | "user_id";
  notGated: { file: string; line: number; callee: string }[];
}

async function packageStartScript(rootDir: string): Promise<string | undefined> {
  const text = await readFile(join(rootDir, "package.json"), "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const start = (JSON.parse(text) as { scripts?: Record<string, unknown> }).scripts?.start;
    return typeof start === "string" ? start : undefined;
  } catch {
    throw new BadInputError("package.json", "is not valid JSON");
  }
}

/** Whether the folder holds Python modules, not looking into node_modules or hidden folders. */
async function hasPythonFiles(dir: string): Promise<boolean> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  if (entries.some((entry) => entry.isFile() && entry.name.endsWith(".py"))) return true;
  for (const entry of entries) {
    if (entry.isDirectory() && entry.name !== "node_modules" && !entry.name.startsWith(".") && (await hasPythonFiles(join(dir, entry.name)))) return true;
  }
  return false;
}

export async function findTarget(dir: string, overrides: { start?: string; route?: Route }): Promise<VerifyTarget> {
  const rootDir = resolve(dir);
  const info = await stat(rootDir).catch(() => undefined);
  if (!info) throw new BadInputError(".", "no such file or directory");
  if (!info.isDirectory()) throw new BadInputError(".", "not a directory");

  const startScript = await packageStartScript(rootDir);
  if (startScript !== undefined || !(await hasPythonFiles(rootDir))) {
    const found = await findTypeScriptModelRoutes(rootDir);
    const start = overrides.start ?? (startScript === undefined ? undefined : "npm run --silent start");
    if (start === undefined) throw new BadInputError("package.json", "has no \"start\" script: pass --start \"<command>\"");
    return withRoute({ rootDir, start, userField: "userId", notGated: found.notGated }, found.routes, overrides.route);
  }

  const python = await findPythonApp(rootDir);
  let start = overrides.start;
  if (start === undefined) {
    if (python.apps.length !== 1) {
      const what = python.apps.length === 0 ? "no web app (`app = FastAPI(...)`, `app = web.Application()`)" : `several web apps (${python.apps.join(", ")})`;
      throw new BadInputError(".", `found ${what}: pass --start "<command>"`);
    }
    start = pythonStart(python.apps[0]!, python.framework);
  }
  return withRoute({ rootDir, start, userField: "user_id", notGated: python.notGated }, python.routes, overrides.route);
}

/**
 * How a Python app is started on PORT: FastAPI with uvicorn (which does not read PORT itself; the
 * shell expands it), aiohttp with its own runner on the app object (importing the module does not
 * run its `if __name__ == "__main__"` block, which may pick another port).
 */
function pythonStart(app: string, framework: string | undefined): string {
  if (framework === "aiohttp") {
    const [module, name] = app.split(":");
    return `${PYTHON} -c 'import os; from aiohttp import web; from ${module} import ${name} as app; web.run_app(app, host="127.0.0.1", port=int(os.environ["PORT"]))'`;
  }
  return `${PYTHON} -m uvicorn ${app} --host 127.0.0.1 --port "$PORT"`;
}

function withRoute(target: Omit<VerifyTarget, "route" | "otherRoutes">, routes: Route[], chosen: Route | undefined): VerifyTarget {
  const route = chosen ?? routes[0];
  if (!route) throw new BadInputError(".", "found no route that calls the model: pass --route \"POST /chat\"");
  return { ...target, route, otherRoutes: routes.filter((r) => formatRoute(r) !== formatRoute(route)) };
}
