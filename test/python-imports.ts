// Whether Debian's Python can import a set of modules, asked once for the whole run: the global
// setup (test/global-setup.ts) checks every set below in one interpreter and leaves the answers
// in the environment the test workers inherit, instead of each worker starting Python once per
// set (each start imports FastAPI or aiohttp: about 0.3 s of CPU).
import { spawnSync } from "node:child_process";
import { PYTHON as DEBIAN_PYTHON } from "./paths.js";

export { DEBIAN_PYTHON };

/** The module sets the suites need, as `canImport` is asked for them. */
export const PYTHON_MODULE_SETS = ["fastapi, uvicorn, httpx", "aiohttp, httpx", "requests", "redis.asyncio, httpx", "fastapi, uvicorn, httpx, redis.asyncio"];

const ANSWERS = "LLM_MIGRATE_TEST_PYTHON_IMPORTS";

const CHECK = `
import importlib, json, sys
answers = {}
for modules in sys.argv[1:]:
    try:
        for name in modules.split(","):
            importlib.import_module(name.strip())
        answers[modules] = True
    except Exception:
        answers[modules] = False
print(json.dumps(answers))
`;

/** Asks the interpreter about each set at once; every set answers false when it cannot run. */
export function checkImports(sets: readonly string[]): Record<string, boolean> {
  const run = spawnSync(DEBIAN_PYTHON, ["-c", CHECK, ...sets], { encoding: "utf8" });
  if (run.status !== 0) return Object.fromEntries(sets.map((set) => [set, false]));
  return JSON.parse(run.stdout) as Record<string, boolean>;
}

/** Run by the global setup: the answers for every set, for the workers to read. */
export function answerForWorkers(): void {
  process.env[ANSWERS] = JSON.stringify(checkImports(PYTHON_MODULE_SETS));
}

/** Whether `import <modules>` works under Debian's Python ("a, b" imports a and b). */
export function canImport(modules: string): boolean {
  const answers = process.env[ANSWERS] ? (JSON.parse(process.env[ANSWERS]) as Record<string, boolean>) : {};
  return answers[modules] ?? checkImports([modules])[modules]!;
}
