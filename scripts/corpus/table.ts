/** The corpus table and its summary line (the line CI logs and the "Done when" quote). */
import { medianAndMax } from "../../src/report/churn.js";
import type { RepoResult } from "./evaluate.js";

function count(results: readonly RepoResult[], kind: string): number {
  return results.reduce((n, result) => n + result.sites.filter((site) => site.outcome.kind === kind).length, 0);
}

/**
 * `gated` and `left` count what the tool did with the expected calls (per-request calls count as
 * left: reported and left by design); `missed` are calls neither gated nor reported; `broke`
 * counts repositories with a breakage (parse, controls, rollback, a crash, writes without a gate).
 */
export function summaryLine(results: readonly RepoResult[]): string {
  const sites = results.reduce((n, result) => n + result.sites.length, 0);
  const clean = results.filter((result) => result.clean).length;
  const left = count(results, "left") + count(results, "per-request");
  const broke = results.filter((result) => result.breakage.length > 0).length;
  return `corpus: repos=${results.length} clean=${clean} sites=${sites} gated=${count(results, "gated")} left=${left} missed=${count(results, "missed")} broke=${broke}`;
}

export function table(results: readonly RepoResult[]): string {
  const header = ["repo", "lang", "sites", "as expected", "gated", "left", "missed", "exit scan/apply/rollback", "types", "broke", "clean"];
  const rows = [...results]
    .sort((a, b) => a.entry.name.localeCompare(b.entry.name))
    .map((result) => {
      const kinds = (kind: string) => result.sites.filter((site) => site.outcome.kind === kind).length;
      return [
        result.entry.name,
        result.entry.language === "python" ? "py" : "ts",
        String(result.sites.length),
        String(result.sites.filter((site) => site.ok).length),
        String(kinds("gated")),
        String(kinds("left") + kinds("per-request")),
        String(kinds("missed")),
        `${result.scanExit}/${result.applyExit}/${result.rollbackExit ?? "-"}`,
        result.types,
        result.breakage.length > 0 ? "yes" : "",
        result.clean ? "yes" : "no",
      ];
    });
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => "| " + cells.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ") + " |";
  return [line(header), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...rows.map(line)].join("\n");
}

/**
 * `churn: median M, max X changed lines per rewritten call site over S sites in R repos`: each
 * repository's figure (src/report/churn.ts) counts once per site it rewrote.
 */
export function churnLine(results: readonly RepoResult[]): string {
  const measured = results.filter((result) => result.churn);
  const perSite = measured.flatMap((result) => Array.from({ length: result.churn!.rewrittenSites }, () => result.churn!.perSite));
  const { median, max } = medianAndMax(perSite);
  return `churn: median ${median.toFixed(1)}, max ${max.toFixed(1)} changed lines per rewritten call site over ${perSite.length} sites in ${measured.length} repos`;
}
