import type { MigrationSettings } from "../../transforms/types.js";
import { applyPlan } from "../engine/apply.js";
import { toolPackage } from "../engine/package-root.js";
import type { MigrationPlan, PlanOptions } from "../engine/plan.js";
import { prefetchSources } from "../engine/prefetch.js";
import { rollbackMigration } from "../engine/rollback.js";
import { needsHuman } from "../../transforms/reasons.js";
import type { Paint } from "../report/colour.js";
import { unifiedDiff } from "../report/diff.js";
import { jsonReport, type ReportMode } from "../report/json.js";
import { rollbackSummary, textSummary } from "../report/text.js";
import { EXIT, type ExitCode } from "./exit-codes.js";
import type { Progress } from "./progress.js";

export interface Output {
  write(text: string): void;
  paint: Paint;
  /** The progress line of a long run, cleared before the report is written. */
  progress?: Progress;
}

export interface DetectionOptions {
  entry?: string;
  client?: string;
  method?: string;
  poolSize?: number;
  canary?: number;
  json?: boolean;
}

export interface ApplyCommandOptions extends DetectionOptions {
  dryRun?: boolean;
  check?: boolean;
  allowDirty?: boolean;
  format: boolean;
}

function settingsFrom(options: DetectionOptions): MigrationSettings {
  return {
    poolSize: options.poolSize ?? 10,
    canaryPercent: options.canary ?? 100,
    ...(options.entry === undefined ? {} : { entry: options.entry }),
    ...(options.client === undefined ? {} : { client: options.client }),
    ...(options.method === undefined ? {} : { method: options.method }),
  };
}

/**
 * The planner loads the parsers (TypeScript, ts-morph, tree-sitter): only scan and apply need it.
 * The tree is listed and read meanwhile, in a worker thread (see prefetch.ts).
 */
async function planMigration(dir: string, settings: MigrationSettings, options: PlanOptions): Promise<MigrationPlan> {
  const prefetch = prefetchSources(dir);
  try {
    return await (await import("../engine/plan.js")).planMigration(dir, settings, { ...options, prefetch });
  } finally {
    prefetch.stop();
  }
}

export async function scanCommand(dir: string, options: DetectionOptions & { check?: boolean }, out: Output): Promise<ExitCode> {
  const plan = await planMigration(dir, settingsFrom(options), { format: false, progress: out.progress });
  out.progress?.done();
  out.write(options.json ? json(plan, "scan") : textSummary(plan, "scan", dir, out.paint));
  if (!options.check) return EXIT.ok;
  // For CI: fails while any LLM call is not gated, whether apply can gate it (1) or not (7).
  return callsLeftForAHuman(plan) ? EXIT.llmCallsLeft : plan.status === "pending" ? EXIT.changesPending : EXIT.ok;
}

/** Whether any LLM call found is left for a human (not gated, and not left by design). */
function callsLeftForAHuman(plan: MigrationPlan): boolean {
  return plan.outcome.callSites.some((site) => site.state === "left" && needsHuman(site.reason));
}

export async function applyCommand(dir: string, options: ApplyCommandOptions, out: Output): Promise<ExitCode> {
  const plan = await planMigration(dir, settingsFrom(options), { format: options.format, progress: out.progress });
  out.progress?.done();
  const mode: ReportMode = options.check ? "check" : options.dryRun ? "dry-run" : "apply";
  if (mode === "apply") await applyPlan(plan, { allowDirty: options.allowDirty ?? false });
  if (options.json) {
    out.write(json(plan, mode));
  } else {
    // After a real apply the diff shows what changed in the user's files; created files (the
    // vendored runtime) are listed in the summary rather than printed in full.
    const shown = mode === "apply" ? plan.changes.filter((change) => change.action === "modified") : plan.changes;
    if (mode !== "check" && shown.length > 0) out.write(unifiedDiff(shown, out.paint) + "\n");
    out.write(textSummary(plan, mode, dir, out.paint));
  }
  if (mode === "check" && plan.status === "pending") return EXIT.changesPending;
  return callsLeftForAHuman(plan) ? EXIT.llmCallsLeft : EXIT.ok;
}

export async function rollbackCommand(dir: string, out: Output): Promise<ExitCode> {
  const manifest = await rollbackMigration(dir);
  out.write(rollbackSummary(manifest, dir, out.paint));
  return EXIT.ok;
}

function json(plan: Parameters<typeof jsonReport>[0], mode: ReportMode): string {
  return JSON.stringify(jsonReport(plan, mode, toolPackage().version), null, 2) + "\n";
}
