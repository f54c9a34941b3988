import { posix } from "node:path";
import type { PythonSourceFile } from "../../src/languages/python/parse.js";
import { serviceRoot } from "../../src/languages/python/runtime-home.js";
import { detectPythonFramework } from "../frameworks/python-frameworks.js";
import type { Finding, MigrationInput, MigrationOutcome } from "../types.js";
import { addErrorHandler } from "./add-error-handler.js";
import { addMetricsRoute } from "./add-metrics-route.js";
import { addRequestKey } from "./add-request-key.js";
import { addRuntimeImports } from "./add-runtime-imports.js";
import { analyse, candidateFiles, finding, hasLlmCalls, relativePath, RUNTIME_MODULE, type PythonAnalysis, type PythonMigrationContext, type PythonTransform } from "./context.js";
import { runTransforms } from "../runner.js";
import { gateCallSites } from "./gate-call-sites.js";
import { startAsyncClient } from "./start-async-client.js";

export type { PythonTransform } from "./context.js";

/** The Python transforms, in the order they run. */
export const pythonTransforms: readonly PythonTransform[] = [gateCallSites, addRequestKey, startAsyncClient, addMetricsRoute, addErrorHandler];

/** Whether the target is a Python web app this migration knows: one of the Python framework adapters matches it. */
export function isPythonWebApp(files: readonly PythonSourceFile[]): boolean {
  return detectPythonFramework(files) !== undefined;
}

/** The Python twin of migrateTypeScriptProject: same outcome, same report, over `input.pythonFiles`. */
export function migratePythonProject(input: MigrationInput): MigrationOutcome {
  const files = candidateFiles(input);
  const first = analyse(input);
  const findings: Finding[] = [];
  const where = (file: PythonSourceFile, index: number) => ({ file: relativePath(input, file), line: file.lineAt(index) });
  for (const { file, construction } of first.detection.perRequest) findings.push(finding("PER_REQUEST_CLIENT", "info", where(file, construction.startIndex)));
  const { client } = first;
  const migratedBefore = files.some(importsRuntime);
  if (!hasLlmCalls(first)) {
    findings.push(finding("NO_SHARED_CLIENT", "warning"));
    return { callSites: [], findings, alreadyMigrated: migratedBefore, framework: first.framework?.name };
  }
  const { home: runtimeHome, appServed } = runtimeHomeOf(input, first);
  const app = appServed ? first.app : undefined;
  // The app of another service cannot import the runtime: no route, handler or client start goes there.
  const inService = (analysis: PythonAnalysis): PythonAnalysis => (appServed ? analysis : { ...analysis, app: undefined });
  const context: PythonMigrationContext = {
    input,
    runtimeDir: posix.dirname(runtimeHome.getFilePath()),
    analyse: () => inService(analyse(input)),
    callSites: [],
    findings,
    imports: new Map(),
    needsImports(file, needs) {
      const entry = this.imports.get(file) ?? { runtime: new Set<string>(), asyncio: false, routeHelpers: false };
      for (const name of needs.runtime ?? []) entry.runtime.add(name);
      entry.asyncio ||= needs.asyncio ?? false;
      entry.routeHelpers ||= needs.routeHelpers ?? false;
      this.imports.set(file, entry);
    },
    afterEdits: [],
  };
  const changed = runTransforms({
    input,
    files,
    text: (file) => file.getFullText(),
    restore: (file, text) => file.replaceText(text),
    transforms: pythonTransforms,
    gate: gateCallSites.name,
    context,
    gated: (site) => site.state !== "left",
    addRuntimeImports,
  });
  return {
    entryFile: app ? relativePath(input, app.file) : undefined,
    client: client && {
      ...where(client.file, client.declaration.startIndex),
      name: client.name,
      kind: client.kind,
      constructedWith: client.constructedWith,
    },
    framework: app ? first.framework?.name : undefined,
    callSites: context.callSites,
    findings,
    runtimeDir: changed ? posix.dirname(runtimeHome.getFilePath()) : undefined,
    runtimeFlavour: "python",
    alreadyMigrated: !changed && migratedBefore,
  };
}

/**
 * Where the runtime is vendored: beside the app, where its metrics route and error handler go. When
 * none of the LLM calls is in the app's service (a repository with an API and a bot, each its own
 * image, whose calls are all in the bot), beside the calls instead, and the app is left alone.
 */
function runtimeHomeOf(input: MigrationInput, first: PythonAnalysis): { home: PythonSourceFile; appServed: boolean } {
  const callFiles = [...first.calls.map((c) => c.file), ...first.migrated.map((m) => m.file)];
  const fallback = first.client?.file ?? callFiles[0]!;
  if (!first.app) return { home: fallback, appServed: false };
  const serviceOf = (file: PythonSourceFile) => serviceRoot(posix.dirname(file.getFilePath()), input.rootDir);
  const appService = serviceOf(first.app.file);
  if (callFiles.length === 0 || callFiles.some((file) => serviceOf(file) === appService)) return { home: first.app.file, appServed: true };
  return { home: callFiles[0]!, appServed: false };
}

function importsRuntime(file: PythonSourceFile): boolean {
  return new RegExp(`^\\s*from\\s+[.\\w]*\\b${RUNTIME_MODULE}\\s+import\\b`, "m").test(file.getFullText());
}
