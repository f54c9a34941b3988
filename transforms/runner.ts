import type { CallSiteReport, Finding, MigrationInput } from "./types.js";

/** One change to a target, in either language: a transform of its own. */
export interface Step<Context> {
  name: string;
  run(context: Context): void;
}

/** What every language's migration context holds for the runner. */
export interface RunContext {
  callSites: CallSiteReport[];
  findings: Finding[];
  /** Run once every transform's edits and the runtime imports are in (e.g. to report a line of the changed file). */
  afterEdits: (() => void)[];
}

/** Findings that say something was written: untrue once every file is put back. */
const WRITTEN = new Set(["METRICS_ROUTE_ADDED"]);

/** What the runner needs of a language's migration. */
export interface LanguageRun<File, Context extends RunContext> {
  input: MigrationInput;
  /** The target's own files, in the language's file type (ts-morph's or the Python module's). */
  files: readonly File[];
  text(file: File): string;
  /** Puts a file's text back. */
  restore(file: File, text: string): void;
  transforms: readonly Step<Context>[];
  /** The transform that gates call sites: when it runs and gates none, nothing is written. */
  gate: string;
  context: Context;
  /** Whether a reported call site was gated (Python counts one already migrated as gated). */
  gated(site: CallSiteReport): boolean;
  /** One import of the runtime in each changed file, whichever transforms ran. */
  addRuntimeImports(context: Context): void;
}

/**
 * The steps every migration takes, in every language: the transforms in order (those `only`
 * names, for per-transform fixtures), the runtime imports, and, when no call site was gated,
 * every file put back as it was: an honest outcome writes nothing (no runtime, route, comment),
 * and its report does not say it did (every call is still reported).
 * Returns whether a file changed.
 */
export function runTransforms<File, Context extends RunContext>(run: LanguageRun<File, Context>): boolean {
  const { input, files, context } = run;
  const before = new Map(files.map((file) => [file, run.text(file)]));
  for (const transform of run.transforms) {
    if (!input.only || input.only.includes(transform.name)) transform.run(context);
  }
  run.addRuntimeImports(context);
  for (const after of context.afterEdits) after();
  const gating = !input.only || input.only.includes(run.gate);
  if (gating && !context.callSites.some((site) => run.gated(site))) {
    for (const file of files) if (run.text(file) !== before.get(file)) run.restore(file, before.get(file)!);
    const kept = context.findings.filter((finding) => !WRITTEN.has(finding.code));
    context.findings.splice(0, context.findings.length, ...kept);
  }
  return files.some((file) => run.text(file) !== before.get(file));
}
