import {
  findClientCalls,
  findMigratedCalls,
  findModuleCalls,
  findWrapperFunctionCalls,
  type PythonLlmCall,
  type PythonMigratedCall,
} from "../../src/languages/python/find-llm-calls.js";
import { findLlmClients, type PythonClientDetection, type PythonLlmClient } from "../../src/languages/python/find-llm-clients.js";
import { findLlmHttpCalls } from "../../src/languages/python/find-llm-http-calls.js";
import { findWrappers, insideWrapper, sameWrappers } from "../../src/languages/python/find-wrappers.js";
import type { PythonSourceFile } from "../../src/languages/python/parse.js";
import { isVendoredRuntime } from "../../src/languages/python/runtime-home.js";
import { detectPythonFramework, type PythonApp, type PythonFrameworkAdapter, type PythonRoute } from "../frameworks/python-frameworks.js";
import { reasons, type ReasonCode } from "../reasons.js";
import type { Finding, MigrationInput } from "../types.js";
import type { RunContext } from "../runner.js";

/** The vendored Python runtime: one module next to the app, `llm_api.py`. */
export const RUNTIME_MODULE = "llm_api";

/** What detection finds; recomputed after each transform, because edits make old nodes stale. */
export interface PythonAnalysis {
  files: PythonSourceFile[];
  detection: PythonClientDetection;
  /** The client the report names: the first one whose calls were found. */
  client?: PythonLlmClient;
  /** LLM calls made where they are, and calls of wrappers (whose own LLM calls run inside them), in source order per file. */
  calls: PythonLlmCall[];
  migrated: PythonMigratedCall[];
  /** The web framework whose app the project builds, which knows where its routes and additions go. */
  framework?: PythonFrameworkAdapter;
  app?: PythonApp;
  routes: PythonRoute[];
}

export interface PythonMigrationContext extends RunContext {
  input: MigrationInput;
  /** Where the runtime module is vendored (absolute): the app's folder. */
  runtimeDir: string;
  analyse(): PythonAnalysis;
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

/** The target's own Python modules, not the vendored runtime (told apart from an app module of the same name by its first line). */
export function candidateFiles(input: MigrationInput): PythonSourceFile[] {
  return (input.pythonFiles ?? []).filter((file) => !isVendoredRuntime(file.getFilePath(), file.getFullText()));
}

/**
 * Finds the LLM calls by what they call: SDK clients and local models from the SDK table, pre-1.0
 * module calls and HTTP requests to LLM APIs; then the project's wrappers around those (whatever
 * their names) and the calls of the wrappers, until no new wrapper turns up.
 */
export function analyse(input: MigrationInput): PythonAnalysis {
  const files = candidateFiles(input);
  const framework = detectPythonFramework(files);
  const migrated = findMigratedCalls(files);
  const sdkClients = findLlmClients(files, input.settings).clients;
  const made = unique([...findClientCalls(files, sdkClients, new Map()), ...findModuleCalls(files), ...findLlmHttpCalls(files)]);
  const gatedBefore = migrated.map((m) => m.conditional);
  // A call on the caller's own key is left by design: it makes no wrapper whose callers would be gated.
  const shared = made.filter((call) => !call.client?.perRequestCredential);
  let wrappers = findWrappers(shared, gatedBefore);
  let detection: PythonClientDetection;
  let wrapperCalls: PythonLlmCall[];
  // Each round can only add wrappers (one more layer of callers); ten layers is more than any app has.
  for (let round = 0; ; round++) {
    detection = findLlmClients(files, input.settings, wrappers.classes);
    const wrapperClients = detection.clients.filter((c) => c.kind === "wrapper");
    wrapperCalls = [
      ...findClientCalls(files, wrapperClients, wrappers.classes, input.settings.method, wrappers.gatedInside),
      ...findWrapperFunctionCalls(files, wrappers.functions),
    ];
    const next = findWrappers([...shared, ...wrapperCalls], gatedBefore);
    if (sameWrappers(next, wrappers) || round === 10) break;
    wrappers = next;
  }
  const insideMigrated = (call: PythonLlmCall) =>
    migrated.some((m) => m.file === call.file && m.conditional.startIndex <= call.call.startIndex && call.call.endIndex <= m.conditional.endIndex);
  const calls = unique([...made, ...wrapperCalls])
    .filter((call) => !insideMigrated(call) && !insideWrapper(call, wrappers))
    .sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.call.startIndex - b.call.startIndex);
  return {
    files,
    detection,
    client: calls.find((c) => c.client)?.client ?? detection.clients[0],
    calls,
    migrated,
    framework,
    app: framework?.findApps(files)[0],
    routes: framework ? files.flatMap((file) => framework.findRoutes(file)) : [],
  };
}

/** One entry per call node: a call can be reached through more than one client. */
function unique(calls: PythonLlmCall[]): PythonLlmCall[] {
  const seen = new Set<string>();
  return calls.filter((call) => {
    const at = `${call.file.getFilePath()}:${call.call.startIndex}`;
    if (seen.has(at)) return false;
    seen.add(at);
    return true;
  });
}

/** Whether the app has LLM calls to gate, or gated ones. */
export function hasLlmCalls(analysis: PythonAnalysis): boolean {
  return analysis.calls.length > 0 || analysis.migrated.length > 0;
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
