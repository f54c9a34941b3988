import type { SourceFile } from "ts-morph";
import { findClientBindings } from "../src/languages/typescript/client-bindings.js";
import { findSharedClient, type ClientDetection, type SharedClient } from "../src/languages/typescript/find-shared-client.js";
import { findEntryFile } from "../src/languages/typescript/find-entry-file.js";
import { findSdkCallsByType } from "../src/languages/typescript/calls-by-type.js";
import { findLlmCalls, type ClientReach, type LlmCall } from "../src/languages/typescript/find-llm-calls.js";
import { detectFramework, type FrameworkAdapter, type RouteRegistration } from "./frameworks/index.js";
import { EditPlan as GenericEditPlan } from "../src/languages/edit-plan.js";
import type { MigrationInput } from "./types.js";

// The runtime's names live apart so that adapters can use them without importing this module.
import { RUNTIME_FOLDER, type RuntimeName } from "./runtime-names.js";
import type { RunContext } from "./runner.js";
export { RUNTIME_FOLDER, RUNTIME_NAMES, type RuntimeName } from "./runtime-names.js";

/**
 * What detection finds, in the files as they were before any transform: computed once, since the
 * transforms only plan edits (in these files' positions) and the plan is applied after the last one.
 */
export interface Analysis {
  files: SourceFile[];
  detection: ClientDetection;
  /** The wrapper, or else the first SDK client: what the report names. */
  client?: SharedClient;
  /** Every LLM call found, gated or not. */
  calls: LlmCall[];
  entryFile?: SourceFile;
  framework?: FrameworkAdapter;
  routes: RouteRegistration[];
}

export interface MigrationContext extends RunContext {
  input: MigrationInput;
  /** Absolute folder the runtime is vendored into (next to the entry file). */
  runtimeDir: string;
  analyse(): Analysis;
  /** The edits every transform plans, applied once after the last transform. */
  plan: TypeScriptEditPlan;
  /** Runtime names each changed file needs, by absolute path. */
  runtimeImports: Map<string, Set<RuntimeName>>;
  needsRuntime(file: SourceFile, ...names: RuntimeName[]): void;
}

/** One change to the target, in one file of its own. */
export interface Transform {
  name: string;
  description: string;
  run(context: MigrationContext): void;
}

/** Files the migration may read and edit: the target's own sources, not the vendored runtime. */
export function candidateFiles(input: MigrationInput): SourceFile[] {
  return input.project
    .getSourceFiles()
    .filter((f) => !f.isDeclarationFile() && !f.getFilePath().includes(`/${RUNTIME_FOLDER}/`) && !f.getFilePath().includes("/node_modules/"));
}

export function analyse(input: MigrationInput): Analysis {
  const files = candidateFiles(input);
  const detection = findSharedClient(files, input.settings);
  const reaches: ClientReach[] = [
    ...detection.clients.map((client) => ({ client, bindings: findClientBindings(files, client) })),
    ...detection.perRequest.flatMap(({ client }) => (client ? [{ client, bindings: findClientBindings(files, client), perRequestCredential: true }] : [])),
  ];
  const calls = findLlmCalls(files, reaches, findSdkCallsByType(files));
  const framework = detectFramework(files, calls.filter((c) => !c.perRequestCredential).map((c) => c.call));
  return {
    files,
    detection,
    client: detection.client,
    calls,
    entryFile: findEntryFile(files, input.rootDir, input.settings.entry),
    framework,
    routes: framework ? files.flatMap((f) => framework.findRoutes(f)) : [],
  };
}

/** Path relative to the root, with forward slashes, as reports show it. */
export function relativePath(input: MigrationInput, file: SourceFile): string {
  const root = input.rootDir.replace(/\\/g, "/").replace(/\/$/, "");
  const path = file.getFilePath();
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}

/**
 * The edit plan (src/languages/edit-plan.ts) for TypeScript and JavaScript: ts-morph applies the edits, as its
 * performance guide advises, all at once.
 */
export class TypeScriptEditPlan extends GenericEditPlan<SourceFile> {
  constructor() {
    super((file, edits) => file.applyTextChanges(edits.map(({ start, end, text }) => ({ span: { start, length: end - start }, newText: text }))));
  }
}
export { TypeScriptEditPlan as EditPlan };
