/**
 * Matches the call sites a manifest expects against the call sites and findings of an
 * `llm-migrate --json` report, and says for each whether the tool did what was expected.
 */
import type { Expectation, ExpectedSite } from "./manifest.js";

/** The parts of the `--json` report the corpus reads (kept loose: the report may grow fields). */
export interface ReportSite {
  file: string;
  line: number;
  callee?: string;
  state: string;
  reason?: string;
}

export interface ReportFinding {
  code: string;
  file?: string;
  line?: number;
}

export interface Report {
  status?: string;
  callSites: ReportSite[];
  findings: ReportFinding[];
  files?: { path: string; action: string }[];
}

/** What the tool did with one expected call. */
export type Outcome =
  | { kind: "gated" }
  | { kind: "left"; reason: string }
  | { kind: "per-request" }
  | { kind: "missed" };

export interface SiteResult {
  site: ExpectedSite;
  outcome: Outcome;
  /** The outcome is one the manifest accepts. */
  ok: boolean;
  /** Where the report put it, when it did. */
  reportedAt?: { file: string; line: number };
}

const GATED_STATES = new Set(["rewritten", "gated", "already-migrated"]);

/** A call moves by at most a few lines when only a statement around it is rewritten. */
const NEAR_LINES = 2;
/** Inserted imports and setup lines shift a call further; then the call text must agree. */
const SHIFT_LINES = 80;

function lastSegments(callee: string, count: number): string {
  return callee.replace(/\s+/g, "").split(".").slice(-count).join(".");
}

/** Same call written the same way, or the same method on a differently named receiver. */
export function sameCall(expected: string, reported: string | undefined): boolean {
  if (reported === undefined || reported === "") return false;
  const a = expected.replace(/\s+/g, "");
  const b = reported.replace(/\s+/g, "");
  if (a === b || a.endsWith("." + b) || b.endsWith("." + a)) return true;
  const depth = Math.min(2, a.split(".").length, b.split(".").length);
  return lastSegments(a, depth) === lastSegments(b, depth);
}

function distance(site: { file: string; line: number }, call: string, reported: ReportSite): number | undefined {
  if (reported.file !== site.file) return undefined;
  const delta = Math.abs(reported.line - site.line);
  if (delta === 0) return 0;
  if (delta <= NEAR_LINES) return delta;
  if (delta <= SHIFT_LINES && sameCall(call, reported.callee)) return delta;
  return undefined;
}

function outcomeOf(reported: ReportSite): Outcome {
  if (GATED_STATES.has(reported.state)) return { kind: "gated" };
  return { kind: "left", reason: reported.reason ?? "" };
}

export function accepts(expect: readonly Expectation[], outcome: Outcome): boolean {
  return expect.some((wanted) => {
    switch (wanted.kind) {
      case "gated":
        return outcome.kind === "gated";
      case "per-request":
        return outcome.kind === "per-request" || (outcome.kind === "left" && (outcome.reason === "PER_REQUEST_CLIENT" || outcome.reason === "PER_REQUEST_CREDENTIAL"));
      case "left":
        return outcome.kind === "left" && (wanted.reasons.length === 0 || wanted.reasons.includes(outcome.reason));
    }
  });
}

/**
 * Pairs each expected site with the nearest report entry for the same call (each report entry is
 * used once, closest pairs first), then falls back to a per-request finding in the same file.
 */
export function matchSites(sites: readonly ExpectedSite[], report: Report): SiteResult[] {
  const pairs: { site: number; reported: number; distance: number }[] = [];
  sites.forEach((site, s) => {
    report.callSites.forEach((reported, r) => {
      const places = [{ file: site.file, line: site.line }, ...site.alsoAt];
      const best = Math.min(...places.map((place) => distance(place, site.call, reported) ?? Infinity));
      if (best !== Infinity) pairs.push({ site: s, reported: r, distance: best });
    });
  });
  pairs.sort((a, b) => a.distance - b.distance || a.site - b.site);
  const siteTaken = new Map<number, number>();
  const reportTaken = new Set<number>();
  for (const pair of pairs) {
    if (siteTaken.has(pair.site) || reportTaken.has(pair.reported)) continue;
    siteTaken.set(pair.site, pair.reported);
    reportTaken.add(pair.reported);
  }
  return sites.map((site, s) => {
    const r = siteTaken.get(s);
    if (r !== undefined) {
      const reported = report.callSites[r]!;
      const outcome = outcomeOf(reported);
      return { site, outcome, ok: accepts(site.expect, outcome), reportedAt: { file: reported.file, line: reported.line } };
    }
    const perRequest = report.findings.find((finding) => finding.code === "PER_REQUEST_CLIENT" && finding.file === site.file);
    const outcome: Outcome = perRequest ? { kind: "per-request" } : { kind: "missed" };
    return { site, outcome, ok: accepts(site.expect, outcome) };
  });
}

export function describeOutcome(outcome: Outcome): string {
  return outcome.kind === "left" ? `left:${outcome.reason || "?"}` : outcome.kind;
}
