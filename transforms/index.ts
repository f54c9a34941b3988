import { posix } from "node:path";
import { SyntaxKind } from "../src/languages/typescript/ts-morph.js";
import type { SourceFile } from "ts-morph";
import { indexDescendantSearches } from "../src/languages/typescript/descendant-index.js";
import { findChildProcessCalls } from "../src/languages/typescript/find-child-process.js";
import { detectStyle, isTypeScriptFile, requiredModule } from "../src/languages/typescript/source-style.js";
import { addMetricsRoute } from "./add-metrics-route.js";
import { addRuntimeImports } from "./add-runtime-imports.js";
import { analyse, candidateFiles, EditPlan, relativePath, RUNTIME_FOLDER, type MigrationContext, type Transform } from "./context.js";
import { gateCallSites } from "./gate-call-sites.js";
import { reasons } from "./reasons.js";
import { runTransforms } from "./runner.js";
import { startAsyncClient } from "./start-async-client.js";
import type { Finding, MigrationInput, MigrationOutcome } from "./types.js";

export type { Transform } from "./context.js";
export { reasons, reasonTable, type ReasonCode } from "./reasons.js";

/** The transforms, in the order they run. */
export const transforms: readonly Transform[] = [gateCallSites, startAsyncClient, addMetricsRoute];

export function migrateTypeScriptProject(input: MigrationInput): MigrationOutcome {
  indexDescendantSearches();
  const files = candidateFiles(input);
  const first = analyse(input);
  const findings: Finding[] = [];
  const finding = (code: keyof typeof reasons, file?: SourceFile, line?: number): Finding => ({
    code,
    kind: code === "PER_REQUEST_CLIENT" ? "info" : "warning",
    message: reasons[code].message,
    ...(file ? { file: relativePath(input, file), line } : {}),
  });
  for (const { construction } of first.detection.perRequest) {
    findings.push(finding("PER_REQUEST_CLIENT", construction.getSourceFile(), construction.getStartLineNumber()));
  }
  // Reported whether or not the call is migrated: a shell string built from input is unsafe either way.
  for (const file of files) {
    for (const { call, shellInjection } of findChildProcessCalls(file)) {
      if (shellInjection) findings.push(finding("COMMAND_INJECTION", file, call.getStartLineNumber()));
    }
  }
  for (const other of first.detection.others) findings.push(finding("MULTIPLE_CLIENTS", other.sourceFile, other.declaration.getStartLineNumber()));
  const { client, entryFile, framework, calls } = first;
  if (!calls.length) {
    findings.push(finding("NO_SHARED_CLIENT"));
    return { callSites: [], findings, alreadyMigrated: files.some(importsRuntime), framework: framework?.name };
  }
  if (!entryFile && !framework?.startupFile?.(first.files)) findings.push(finding("NO_ENTRY_FILE"));

  const runtimeHome = entryFile ?? client?.sourceFile ?? calls[0]!.call.getSourceFile();
  const runtimeDir = posix.join(framework?.runtimeHome?.(first.files) ?? runtimeHome.getDirectoryPath(), RUNTIME_FOLDER);
  const context: MigrationContext = {
    input,
    runtimeDir,
    analyse: () => first,
    plan: new EditPlan(),
    afterEdits: [],
    callSites: [],
    findings,
    runtimeImports: new Map(),
    needsRuntime(file, ...names) {
      const set = this.runtimeImports.get(file.getFilePath()) ?? new Set();
      for (const name of names) set.add(name);
      this.runtimeImports.set(file.getFilePath(), set);
    },
  };
  const summary = client && {
    file: relativePath(input, client.sourceFile),
    line: client.declaration.getStartLineNumber(),
    name: client.name,
    kind: client.kind,
    constructedWith: client.constructedWith,
  };
  const entry = entryFile ? relativePath(input, entryFile) : undefined;
  const flavour = runtimeFlavour(runtimeHome);

  const changed = runTransforms({
    input,
    files,
    text: (file) => file.getFullText(),
    restore: (file, text) => file.replaceWithText(text),
    transforms,
    gate: gateCallSites.name,
    context,
    gated: (site) => site.state === "rewritten",
    // The transforms only planned their edits: they go in now, before the imports the edits need.
    addRuntimeImports: (context) => {
      context.plan.apply();
      addRuntimeImports(context);
    },
  });
  const alreadyMigrated = !changed && files.some(importsRuntime);
  return {
    entryFile: entry,
    ...(summary ? { client: summary } : {}),
    framework: framework?.name,
    callSites: context.callSites,
    findings,
    // An earlier migration's runtime folder too, so that the engine can see whether it is whole.
    runtimeDir: changed ? runtimeDir : alreadyMigrated ? (importedRuntimeDir(files) ?? runtimeDir) : undefined,
    runtimeFlavour: flavour,
    alreadyMigrated,
  };
}

/** The folder of the vendored runtime that the migrated files import, e.g. `<dir>/llm-runtime`. */
function importedRuntimeDir(files: readonly SourceFile[]): string | undefined {
  for (const file of files) {
    const specifiers = [
      ...file.getImportDeclarations().map((d) => d.getModuleSpecifierValue()),
      ...file.getDescendantsOfKind(SyntaxKind.CallExpression).map((call) => requiredModule(call)),
    ];
    const specifier = specifiers.find((s) => s?.startsWith(".") && s.split("/").includes(RUNTIME_FOLDER));
    if (!specifier) continue;
    const parts = specifier.split("/");
    return posix.join(file.getDirectoryPath(), ...parts.slice(0, parts.indexOf(RUNTIME_FOLDER) + 1));
  }
  return undefined;
}

function runtimeFlavour(file: SourceFile): "ts" | "esm" | "cjs" {
  return isTypeScriptFile(file) ? "ts" : detectStyle(file).module;
}

function importsRuntime(file: SourceFile): boolean {
  const named = (specifier: string | undefined) => specifier?.includes(RUNTIME_FOLDER) ?? false;
  return (
    file.getImportDeclarations().some((d) => named(d.getModuleSpecifierValue())) ||
    file.getDescendantsOfKind(SyntaxKind.CallExpression).some((call) => named(requiredModule(call)))
  );
}
