/**
 * One corpus repository, end to end, on a copy of its checkout: scan, apply, check every expected
 * call, parse what changed, compare controls, rollback and compare every byte.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { churnOfAppliedRun, type Churn } from "../../src/report/churn.js";
import { INSTALLED_MARK } from "./checkout.js";
import { unresolvedCreatedImports } from "./imports.js";
import type { CorpusEntry } from "./manifest.js";
import { matchSites, type Report, type SiteResult } from "./match.js";
import { isChecked, parseErrors, typeErrorCount } from "./syntax.js";
import { checkControls, diffSnapshots, isEmptyDiff, snapshot } from "./tree.js";

const run = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `llm-migrate <args>` in some way (the corpus runs the CLI from source). */
export type Cli = (args: readonly string[]) => Promise<CliResult>;

export interface RepoResult {
  entry: CorpusEntry;
  sites: SiteResult[];
  scanExit: number;
  applyExit: number;
  rollbackExit: number | undefined;
  /** "ok", "n/a" (dependencies absent), or "N new errors". */
  types: string;
  /** Everything that went wrong beyond the call sites: each one makes the repository "broke". */
  breakage: string[];
  /** Notes that do not break anything (e.g. a control path the checkout lacks). */
  notes: string[];
  /** What the tool said overall: the report's status and the codes of its findings. */
  toolSaid: string;
  clean: boolean;
  /** Changed lines per rewritten call site, beyond the fixed additions (src/report/churn.ts); when apply rewrote any. */
  churn?: Churn;
}

function parseReport(stdout: string, what: string): Report {
  try {
    const json = JSON.parse(stdout) as Report;
    return { ...json, callSites: json.callSites ?? [], findings: json.findings ?? [] };
  } catch {
    throw new Error(`${what} --json did not print JSON: ${stdout.slice(0, 200)}`);
  }
}

/** The copy apply works on: a git repository, as a user's project would be. */
async function workingCopy(checkout: string): Promise<{ dir: string; cleanup: () => void }> {
  const parent = mkdtempSync(join(tmpdir(), "llm-migrate-corpus-"));
  const dir = join(parent, "repo");
  // Dependencies the corpus installed are shared, not copied: apply never touches node_modules,
  // and a committed node_modules (no mark) is copied like any other file, as a control.
  const installed = existsSync(join(checkout, "node_modules", INSTALLED_MARK));
  cpSync(checkout, dir, { recursive: true, verbatimSymlinks: true, filter: (source) => !(installed && source === join(checkout, "node_modules")) });
  if (installed) symlinkSync(join(checkout, "node_modules"), join(dir, "node_modules"), "dir");
  if (!existsSync(join(dir, ".git"))) {
    const env = { ...process.env, GIT_AUTHOR_NAME: "corpus", GIT_AUTHOR_EMAIL: "corpus@localhost", GIT_COMMITTER_NAME: "corpus", GIT_COMMITTER_EMAIL: "corpus@localhost" };
    await run("git", ["init", "-q"], { cwd: dir, env });
    await run("git", ["add", "-A", "-f"], { cwd: dir, env, maxBuffer: 64 << 20 });
    await run("git", ["commit", "-q", "--no-verify", "-m", "corpus checkout"], { cwd: dir, env, maxBuffer: 64 << 20 });
  }
  return { dir, cleanup: () => rmSync(parent, { recursive: true, force: true }) };
}

export async function evaluateRepo(entry: CorpusEntry, checkout: string, cli: Cli): Promise<RepoResult> {
  const breakage: string[] = [];
  const notes: string[] = [];
  const { dir, cleanup } = await workingCopy(checkout);
  try {
    const original = snapshot(dir);
    const typesBefore = entry.language === "typescript" ? await typeErrorCount(dir) : undefined;

    const scan = await cli(["scan", "--json", dir]);
    if (scan.code === 70 || scan.code < 0) breakage.push(`scan crashed (exit ${scan.code}): ${scan.stderr.trim().split("\n")[0] ?? ""}`);
    const apply = await cli(["apply", "--json", "--allow-dirty", dir]);
    if (apply.code === 70 || apply.code < 0) breakage.push(`apply crashed (exit ${apply.code}): ${apply.stderr.trim().split("\n")[0] ?? ""}`);

    // The apply report says what was done; when apply printed none (refused, crashed), the scan
    // report still says what the tool saw.
    let report: Report | undefined;
    for (const [result, what] of [[apply, "apply"], [scan, "scan"]] as const) {
      if (result.stdout.trim().startsWith("{")) {
        report = parseReport(result.stdout, what);
        break;
      }
    }
    if (!report) {
      breakage.push(`no --json report (exit ${apply.code}): ${(apply.stderr || scan.stderr).trim().split("\n")[0] ?? ""}`);
      report = { callSites: [], findings: [] };
    }
    const sites = matchSites(entry.sites, report);

    const applied = snapshot(dir);
    const diff = diffSnapshots(original, applied);
    const controls = checkControls(entry.controls, original, diff);
    for (const path of controls.touched) breakage.push(`control changed: ${path}`);
    for (const path of controls.absent) notes.push(`control not in checkout: ${path}`);
    if (!isEmptyDiff(diff) && !report.callSites.some((site) => site.state === "rewritten" || site.state === "gated")) {
      breakage.push(`wrote ${diff.added.length + diff.changed.length} file(s) without gating any call`);
    }

    const touched = [...diff.changed, ...diff.added].filter(isChecked);
    const after = await parseErrors(dir, touched);
    if (after.size > 0) {
      const before = await withOriginal(checkout, touched);
      for (const [path, error] of after) if (!before.has(path)) breakage.push(`does not parse: ${error}`);
    }

    if (entry.language === "python") {
      for (const problem of unresolvedCreatedImports(checkout, dir, diff.changed, diff.added)) breakage.push(`import: ${problem}`);
    }

    let types = "n/a";
    if (typesBefore !== undefined) {
      const typesAfter = await typeErrorCount(dir);
      types = typesAfter === undefined || typesAfter <= typesBefore ? "ok" : `${typesAfter - typesBefore} new errors`;
      if (types !== "ok") breakage.push(`type-check: ${types}`);
    }

    // Read before rollback: the manifest and the backups it lists are the run's before and after.
    const rewritten = report.callSites.filter((site) => site.state === "rewritten").length;
    let churn: Churn | undefined;
    if (rewritten > 0 && existsSync(join(dir, ".llm-migrate", "manifest.json"))) churn = await churnOfAppliedRun(dir, rewritten);

    let rollbackExit: number | undefined;
    if (!isEmptyDiff(diff)) {
      const rollback = await cli(["rollback", dir]);
      rollbackExit = rollback.code;
      const restored = diffSnapshots(original, snapshot(dir));
      if (!isEmptyDiff(restored)) {
        const list = [...restored.changed, ...restored.added.map((p) => "+" + p), ...restored.removed.map((p) => "-" + p)];
        breakage.push(`rollback left ${list.length} difference(s): ${list.slice(0, 4).join(", ")}`);
      }
    }

    const clean = breakage.length === 0 && sites.every((site) => site.ok);
    const findingCodes = [...new Set(report.findings.map((finding) => finding.code))].join(",");
    const toolSaid = `${report.status ?? "?"}${findingCodes ? " " + findingCodes : ""}; wrote ${diff.added.length} new, ${diff.changed.length} changed`;
    return { entry, sites, scanExit: scan.code, applyExit: apply.code, rollbackExit, types, breakage, notes, toolSaid, clean, ...(churn ? { churn } : {}) };
  } finally {
    cleanup();
  }
}

/** Parse errors of the same files in the pristine checkout (files apply created have none). */
async function withOriginal(checkout: string, paths: readonly string[]): Promise<Map<string, string>> {
  return parseErrors(checkout, paths);
}
