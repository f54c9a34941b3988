import { existsSync, readFileSync } from "node:fs";
import { posix } from "node:path";

/** Files that make a folder one deployable Python service: its own dependencies or its own image. */
const SERVICE_FILES = ["requirements.txt", "pyproject.toml", "setup.py", "setup.cfg", "Pipfile", "Dockerfile"];

/**
 * The folder a Python module is deployed and run from: the nearest folder at or above it (up to
 * the root given) with its own dependency file or Dockerfile; else the root. Two services in one
 * repository (an API and a bot, each its own image) cannot import each other's modules.
 */
export function serviceRoot(dir: string, rootDir: string): string {
  const root = rootDir.replace(/\/$/, "");
  for (let at = dir; at.startsWith(root); at = posix.dirname(at)) {
    if (SERVICE_FILES.some((name) => existsSync(posix.join(at, name)))) return at;
    if (at === root) break;
  }
  return root;
}

/**
 * The vendored runtime's modules, each with the start of its first line, which tells it apart
 * from a module of the app that happens to have the same name.
 */
const RUNTIME_MODULES = [
  { name: "llm_api.py", firstLine: '"""One process-wide, semaphore-gated async LLM client' },
  { name: "llm_shared_limit.py", firstLine: '"""One LLM limit for every replica' },
] as const;

/** The modules the Python runtime is vendored as, beside the app (the engine copies these). */
export const PYTHON_RUNTIME_MODULES: readonly string[] = RUNTIME_MODULES.map(({ name }) => name);

/** The app's own modules in `dir` that carry a runtime module's name (vendoring would write over them). */
export function runtimeNamesTaken(dir: string): string[] {
  return RUNTIME_MODULES.filter(({ name, firstLine }) => {
    const path = posix.join(dir, name);
    return existsSync(path) && !readFileSync(path, "utf8").startsWith(firstLine);
  }).map(({ name }) => name);
}

/** Whether a module is a vendored runtime module (an earlier run's), not the app's own. */
export function isVendoredRuntime(path: string, text: string): boolean {
  return RUNTIME_MODULES.some(({ name, firstLine }) => path.endsWith(`/${name}`) && text.startsWith(firstLine));
}
