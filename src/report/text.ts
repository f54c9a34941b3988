import { join } from "node:path";
import { needsHuman } from "../../transforms/reasons.js";
import type { CallSiteReport, Finding } from "../../transforms/types.js";
import type { Manifest, MigrationPlan } from "../engine/index.js";
import { toolPackage } from "../engine/package-root.js";
import type { Paint } from "./colour.js";
import { reportStatus, type ReportMode } from "./json.js";

const HEADLINES = {
  migrated: "migrated",
  "already-migrated": "already migrated, nothing to change",
  "nothing-to-do": "nothing to do: no shared LLM client call sites to migrate",
  "dry-run": "dry run, nothing was written",
  check: "changes pending",
  scan: "scan, nothing was written",
} as const;

/** What a call site became, in the words of the command that reports it. */
function callSiteVerb(site: CallSiteReport, mode: ReportMode): string {
  if (site.state === "already-migrated") return "already migrated";
  const done = mode === "apply";
  if (site.state === "rewritten") return done ? "rewritten" : "will rewrite";
  return done ? "left for you" : "will leave";
}

/**
 * The summary printed after scan and apply: what was found, every call site with its `file:line`
 * and reason, the findings, the files, and what to do next. `dir` is the folder as the user named it.
 */
export function textSummary(plan: MigrationPlan, mode: ReportMode, dir: string, paint: Paint): string {
  const { outcome } = plan;
  const status = reportStatus(plan, mode);
  const lines: string[] = [paint("bold", `llm-migrate ${dir}: ${HEADLINES[status]}`)];
  if (outcome.entryFile) lines.push(`  entry file     ${outcome.entryFile}`);
  if (outcome.client) {
    const { name, constructedWith, kind, file, line } = outcome.client;
    lines.push(`  shared client  ${name} (${constructedWith}, ${kind}) at ${file}:${line}`);
  }
  if (outcome.framework) lines.push(`  framework      ${outcome.framework}`);

  const rewritten = outcome.callSites.filter((site) => site.state === "rewritten").length;
  const left = outcome.callSites.filter((site) => site.state === "left").length;
  const already = outcome.callSites.length - rewritten - left;
  lines.push("", paint("bold", `Call sites: ${rewritten} rewritten, ${left} left for a human, ${already} already migrated`));
  const verbs = outcome.callSites.map((site) => callSiteVerb(site, mode));
  const width = Math.max(0, ...verbs.map((verb) => verb.length));
  outcome.callSites.forEach((site, i) => {
    const verb = verbs[i]!.padEnd(width);
    const painted = site.state === "left" ? paint("yellow", verb) : site.state === "rewritten" ? paint("green", verb) : paint("dim", verb);
    const key = site.key ? ` (canary key: ${site.key})` : "";
    const reason = site.reason ? ` ${site.reason}${site.message ? `: ${site.message}` : ""}` : "";
    lines.push(`  ${painted}  ${site.file}:${site.line}  ${site.callee}${key}${reason}`);
  });
  const forAHuman = outcome.callSites.filter((site) => site.state === "left" && needsHuman(site.reason)).length;
  if (forAHuman > 0) {
    const written = rewritten === 0 && mode === "apply" ? "; with no call gated, nothing was written" : "";
    lines.push(paint("yellow", `  ${forAHuman} LLM call${forAHuman === 1 ? " is" : "s are"} left for a human (exit code 7)${written}`));
  }

  if (plan.findings.length > 0) {
    lines.push("", paint("bold", "Findings:"));
    for (const finding of plan.findings) lines.push(`  ${findingLine(finding, paint)}`);
  }

  const modified = plan.changes.filter((change) => change.action === "modified");
  const created = plan.changes.filter((change) => change.action === "created");
  if (plan.changes.length > 0) {
    const verb = mode === "apply" ? "" : " to be";
    lines.push("", paint("bold", `Files: ${modified.length}${verb} modified, ${created.length}${verb} created`));
    for (const change of plan.changes) lines.push(`  ${change.action.padEnd(8)}  ${change.path}`);
  }

  const next = nextSteps(status, dir, plan.changes.some((change) => change.path.endsWith("package.json")));
  if (next.length > 0) lines.push("", paint("bold", "Next steps:"), ...next.map((step, i) => `  ${i + 1}. ${step}`));
  return lines.join("\n") + "\n";
}

function findingLine(finding: Finding, paint: Paint): string {
  const where = finding.file ? `${finding.file}${finding.line ? `:${finding.line}` : ""}  ` : "";
  const kind = finding.kind === "warning" ? paint("yellow", "warning") : paint("dim", "info   ");
  return `${kind}  ${where}${finding.code}: ${finding.message}`;
}

/** Where the shipped monitoring files are: in this package, next to the runtime. */
function monitoringDir(): string {
  return join(toolPackage().root, "monitoring");
}

function nextSteps(status: ReturnType<typeof reportStatus>, dir: string, dependenciesAdded: boolean): string[] {
  switch (status) {
    case "migrated":
      return [
        "review the changes: git diff",
        ...(dependenciesAdded ? ["install the runtime's dependencies (openai, prom-client): npm install"] : []),
        "run your tests",
        `to monitor it (not written into your project): the Prometheus scrape job ${join(monitoringDir(), "prometheus.yml")} and the Grafana dashboard ${join(monitoringDir(), "grafana-dashboard.json")}`,
        `to undo this run: llm-migrate rollback ${dir}`,
        "to keep it: delete .llm-migrate/ (the backups; leave it out of your commits)",
      ];
    case "scan":
      return [`see the diff: llm-migrate apply ${dir} --dry-run`, `write it: llm-migrate apply ${dir}`];
    case "dry-run":
    case "check":
      return [`write these changes: llm-migrate apply ${dir}`];
    default:
      return [];
  }
}

export function rollbackSummary(manifest: Manifest, dir: string, paint: Paint): string {
  const restored = manifest.files.filter((file) => file.action === "modified");
  const removed = manifest.files.filter((file) => file.action === "created");
  const lines = [paint("bold", `llm-migrate ${dir}: rolled back the run of ${manifest.createdAt}`)];
  for (const file of restored) lines.push(`  restored  ${file.path}`);
  for (const file of removed) lines.push(`  removed   ${file.path}`);
  return lines.join("\n") + "\n";
}
