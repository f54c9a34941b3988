import { findLlmCalls, findMigratedCalls, type PythonLlmCall, type PythonMigratedCall } from "../../src/languages/python/find-llm-calls.js";
import { findLlmHttpCalls } from "../../src/languages/python/find-llm-http-calls.js";
import { findSharedClient, type PythonClientDetection, type PythonSharedClient } from "../../src/languages/python/find-shared-client.js";
import type { PythonSourceFile } from "../../src/languages/python/parse.js";
import { fastapi, type FastApiApp, type FastApiRoute } from "../frameworks/fastapi.js";
import { reasons, type ReasonCode } from "../reasons.js";
import type { CallSiteReport, Finding, MigrationInput } from "../types.js";

/** The vendored Python runtime: one module next to the app, `llm_api.py`. */
export const RUNTIME_MODULE = "llm_api";

/** What detection finds; recomputed after each transform, because edits make old nodes stale. */
export interface PythonAnalysis {
  files: PythonSourceFile[];
  detection: PythonClientDetection;
  client?: PythonSharedClient;
  /** Calls on the shared client and blocking HTTP requests to an LLM API, in source order per file. */
  calls: PythonLlmCall[];
  migrated: PythonMigratedCall[];
  app?: FastApiApp;
  routes: FastApiRoute[];
}

export interface PythonMigrationContext {
  input: MigrationInput;
  analyse(): PythonAnalysis;
  callSites: CallSiteReport[];
  findings: Finding[];
  /** What each changed file must import: runtime names, `asyncio`, the route helpers. */
  imports: Map<PythonSourceFile, { runtime: Set<string>; asyncio: boolean; routeHelpers: boolean }>;
  needsImports(file: PythonSourceFile, needs: { runtime?: string[]; asyncio?: boolean; routeHelpers?: boolean }): void;
}

/** One change to a Python target, in one file of its own. */
export interface PythonTransform {
  name: string;
  description: string;
  run(context: PythonMigrationContext): void;
}

/** The target's own Python modules, not the vendored runtime. */
export function candidateFiles(input: MigrationInput): PythonSourceFile[] {
  return (input.pythonFiles ?? []).filter((file) => !file.getFilePath().endsWith(`/${RUNTIME_MODULE}.py`));
}

export function analyse(input: MigrationInput): PythonAnalysis {
  const files = candidateFiles(input);
  const detection = findSharedClient(files, input.settings);
  const migrated = findMigratedCalls(files);
  const { client } = detection;
  const insideMigrated = (call: PythonLlmCall) =>
    migrated.some((m) => m.file === call.file && m.conditional.startIndex <= call.call.startIndex && call.call.endIndex <= m.conditional.endIndex);
  const clientCalls = client ? findLlmCalls(files, client, input.settings.method) : [];
  return {
    files,
    detection,
    client,
    calls: [...clientCalls, ...findLlmHttpCalls(files).filter((h) => !clientCalls.some((c) => c.call.equals(h.call)))]
      .filter((call) => !insideMigrated(call))
      .sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.call.startIndex - b.call.startIndex),
    migrated,
    app: fastapi.findApp(files),
    routes: files.flatMap((file) => fastapi.findRoutes(file)),
  };
}

/** Whether the app has LLM calls to gate (or gated ones): a shared client, or blocking HTTP requests to an LLM API without one. */
export function hasLlmCalls(analysis: PythonAnalysis): boolean {
  return analysis.client !== undefined || analysis.calls.length > 0 || analysis.migrated.length > 0;
}

/** Path relative to the root, with forward slashes, as reports show it. */
export function relativePath(input: MigrationInput, file: PythonSourceFile): string {
  const root = input.rootDir.replace(/\\/g, "/").replace(/\/$/, "");
  const path = file.getFilePath();
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}

export function finding(code: ReasonCode, kind: Finding["kind"], where?: { file: string; line: number }): Finding {
  return { code, kind, message: reasons[code].message, ...where };
}

/** The comment written above a call left for a human, in Python. */
export function leftComment(code: ReasonCode): string {
  return `# llm-migrate: ${code} ${reasons[code].message}; ${reasons[code].fix}`;
}

/** The file's indentation unit: the first indented line's, else four spaces. */
export function indentUnit(file: PythonSourceFile): string {
  return /\n([ \t]+)\S/.exec(file.getFullText())?.[1] ?? "    ";
}
