// The types the engine, the transforms of both languages and the report share, in one module:
// settings, input and outcome, call sites, findings and reason codes, text edits, and the
// framework adapters' interfaces (defined beside their helpers, named here).
import type { Project } from "ts-morph";
import type { PythonSourceFile } from "../src/languages/python/parse.js";

/** Settings the user gives on the command line (or their defaults). */
export interface MigrationSettings {
  /** Default of LLM_POOL_SIZE written into the migrated server. */
  poolSize: number;
  /** Default of LLM_CANARY_PERCENT written into the migrated server. */
  canaryPercent: number;
  /** Entry file, relative to the root, when the user overrides detection. */
  entry?: string;
  /** Name of the shared client variable, when the user overrides detection. */
  client?: string;
  /** Name of the wrapper method to gate, when the user overrides detection. */
  method?: string;
}

export interface MigrationInput {
  /** Every candidate source file of the target, loaded once by the engine. */
  project: Project;
  /** Absolute path of the target folder. */
  rootDir: string;
  settings: MigrationSettings;
  /** Run only these transforms (by name); used by per-transform fixtures. */
  only?: readonly string[];
  /** The target's Python modules, loaded once by the engine when the target is a Python web app. */
  pythonFiles?: PythonSourceFile[];
}

export type CallSiteState = "rewritten" | "left" | "already-migrated";

export interface CallSiteReport {
  /** Path relative to the root, with forward slashes. */
  file: string;
  line: number;
  column: number;
  /** The call as written, e.g. `llmClient.generateResponse` or `openai.chat.completions.create`. */
  callee: string;
  state: CallSiteState;
  /** Stable reason code when state is "left" (see transforms/reasons.ts). */
  reason?: string;
  message?: string;
  /** Canary key expression used, e.g. `userId` or `req.ip`. */
  key?: string;
}

export type FindingKind = "info" | "warning";

/** Something the user should know that is not a call site (per-request client, metrics route added, ...). */
export interface Finding {
  code: string;
  kind: FindingKind;
  message: string;
  file?: string;
  line?: number;
}

export interface SharedClientSummary {
  file: string;
  line: number;
  name: string;
  /** "sdk" for an OpenAI-style SDK instance, "wrapper" for a user class wrapping the calls, "model" for a local model object (llama_cpp, a transformers pipeline). */
  kind: "sdk" | "wrapper" | "model";
  /** Class or constructor name, e.g. "OpenAI" or "LlmClient". */
  constructedWith: string;
}

export interface MigrationOutcome {
  /** Entry file (relative), when one was found. */
  entryFile?: string;
  client?: SharedClientSummary;
  framework?: string;
  callSites: CallSiteReport[];
  findings: Finding[];
  /**
   * Absolute folder where the engine vendors the runtime; for an already migrated target, the
   * folder its files import (the engine only puts back missing files); else undefined.
   */
  runtimeDir?: string;
  /** Language and module system of the vendored runtime ("python": runtime/python/llm_api.py). */
  runtimeFlavour?: "ts" | "esm" | "cjs" | "python";
  /** True when the target already carries a completed migration. */
  alreadyMigrated: boolean;
}

export type { PlannedEdit } from "../src/languages/edit-plan.js";
export type { ReasonCode, ReasonMeta } from "./reasons.js";
export type { FrameworkAdapter, MetricsPlace, RouteHandler, RouteRegistration, ServerSetup, TextEdit } from "./frameworks/adapter.js";
export type { AdditionPlace, PythonApp, PythonFrameworkAdapter, PythonRoute, RouteImport } from "./frameworks/python-adapter.js";
