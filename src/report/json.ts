import type { CallSiteReport, Finding, SharedClientSummary } from "../../transforms/types.js";
import type { MigrationPlan } from "../engine/index.js";

export type ReportStatus = "migrated" | "already-migrated" | "nothing-to-do" | "dry-run" | "check" | "scan";

/** What the command did with the plan; used for both the JSON and the text report. */
export type ReportMode = "apply" | "dry-run" | "check" | "scan";

/** The stable `--json` shape. Fields are always present; unknown ones are null. */
export interface JsonReport {
  version: string;
  dir: string;
  status: ReportStatus;
  entryFile: string | null;
  client: SharedClientSummary | null;
  framework: string | null;
  callSites: CallSiteReport[];
  findings: Finding[];
  files: { path: string; action: "modified" | "created" }[];
}

export function reportStatus(plan: MigrationPlan, mode: ReportMode): ReportStatus {
  if (plan.status !== "pending") return plan.status;
  return mode === "apply" ? "migrated" : mode;
}

export function jsonReport(plan: MigrationPlan, mode: ReportMode, version: string): JsonReport {
  return {
    version,
    dir: plan.rootDir,
    status: reportStatus(plan, mode),
    entryFile: plan.outcome.entryFile ?? null,
    client: plan.outcome.client ?? null,
    framework: plan.outcome.framework ?? null,
    callSites: plan.outcome.callSites,
    findings: plan.findings,
    files: plan.changes.map((change) => ({ path: change.path, action: change.action })),
  };
}
