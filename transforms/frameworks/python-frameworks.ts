import type { PythonSourceFile } from "../../src/languages/python/parse.js";
import { aiohttp } from "./aiohttp.js";
import { fastapi } from "./fastapi.js";
import type { PythonFrameworkAdapter } from "./python-adapter.js";

export type { AdditionPlace, PythonApp, PythonFrameworkAdapter, PythonRoute } from "./python-adapter.js";

/** The Python web frameworks, one adapter each; a test fails when an adapter file is missing here. */
export const pythonFrameworks: readonly PythonFrameworkAdapter[] = [fastapi, aiohttp];

/** The framework whose app the project builds; the first whose modules it imports when none builds one. */
export function detectPythonFramework(files: readonly PythonSourceFile[]): PythonFrameworkAdapter | undefined {
  return pythonFrameworks.find((f) => f.findApps(files).length > 0) ?? pythonFrameworks.find((f) => f.detect(files));
}
