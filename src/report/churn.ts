import { diffLines } from "diff";
import type { MigrationPlan } from "../engine/plan.js";
import { textOf } from "../engine/text.js";

/**
 * The churn figure: lines a migration changes in the user's source files per rewritten call site,
 * beyond the fixed additions every migration makes once (the runtime import, starting the client,
 * the metrics route, the error wrapper around a handler). A gated call costs a few lines; more
 * means the run moved or re-laid-out code it did not need to.
 */
export interface Churn {
  /** Lines added plus lines removed, over every modified source file. */
  changedLines: number;
  /** Of those, the lines of the fixed additions. */
  fixedLines: number;
  rewrittenSites: number;
  /** (changedLines - fixedLines) / rewrittenSites; 0 when no site was rewritten. */
  perSite: number;
}

/** Lines that belong to a fixed addition; a run of added lines holding one is a fixed block. */
const FIXED = [
  /llm-runtime/,
  /\bgetAsyncLlmClient\(\{/,
  /\bllmMetricsResponse\b|\bsendLlmMetrics\b|\/metrics\/llm/,
  /\bLlmErrorFilter\b|\bhandleLlmErrors\b|\bLlmMetricsController\b/,
  /^\s*\/\/ (llm-migrate: one process-wide|LLM_POOL_SIZE and LLM_CANARY_PERCENT)/,
  // Python: the runtime's module, starting the client, the metrics route, the LlmError handler,
  // the request-key middleware, and the imports they need (asyncio for the legacy branch's to_thread).
  /\bllm_api\b/,
  /\bget_async_llm_client\(pool_size=/,
  /\bmetrics_response\b|\bllm_http_error\b|\bset_llm_request_key\b|\bllm_unavailable\b|\bllm_metrics\b/,
  // The comment at a call left for a human: it belongs to that call, not to a rewritten one.
  /^\s*(\/\/|#) llm-migrate: [A-Z_]+ /,
  /^\s*# (llm-migrate: one process-wide|LLM_POOL_SIZE and LLM_CANARY_PERCENT)/,
  /^(from\s+[\w.]+\s+)?import\s+[\w.]+(\s*,\s*[\w.]+)*\s*$/,
];

export const SOURCE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs|py)$/;

export function churnOf(files: readonly { before: string; after: string }[], rewrittenSites: number): Churn {
  let changedLines = 0;
  let fixedLines = 0;
  for (const { before, after } of files) {
    const parts = diffLines(before, after);
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (!part.added && !part.removed) continue;
      const lines = part.value.replace(/\n$/, "").split("\n");
      changedLines += lines.length;
      if (part.removed) {
        // A line that only gained a fixed addition, e.g. the error wrapper around a handler.
        const next = parts[i + 1];
        const added = next?.added ? next.value.replace(/\n$/, "").split("\n") : [];
        fixedLines += lines.filter((old) => added.some((line) => isFixedReplacement(old, line))).length;
        continue;
      }
      const previous = parts[i - 1];
      const replaced = previous?.removed ? previous.value.replace(/\n$/, "").split("\n") : [];
      const unwrapped = lines.filter((line) => !replaced.some((old) => isFixedReplacement(old, line)));
      fixedLines += lines.length - unwrapped.length + fixedBlocks(unwrapped);
    }
  }
  const perSite = rewrittenSites === 0 ? 0 : (changedLines - fixedLines) / rewrittenSites;
  return { changedLines, fixedLines, rewrittenSites, perSite };
}

/** The churn of a planned migration: its modified source files and its rewritten call sites. */
export function churnOfPlan(plan: MigrationPlan): Churn {
  const files = plan.changes
    .filter((change) => change.action === "modified" && change.before && SOURCE.test(change.path))
    .map((change) => ({ before: textOf(change.before!), after: textOf(change.after) }));
  return churnOf(files, plan.outcome.callSites.filter((site) => site.state === "rewritten").length);
}

export function medianAndMax(values: readonly number[]): { median: number; max: number } {
  if (values.length === 0) return { median: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, max: sorted.at(-1)! };
}

/**
 * `line` is `old` with only a fixed addition: the error wrapper around a handler
 * (`(req, res) => {` -> `handleLlmErrors(async (req, res) => {`, `});` -> `}));`), more names
 * imported from the same module, or the metrics controller listed.
 */
function isFixedReplacement(old: string, line: string): boolean {
  if (line === old) return false;
  const unwrapped = line.replace(/handleLlmErrors\((async )?/, "").replace(/\)\)([;,]?)\s*$/, ")$1");
  if (unwrapped === old || unwrapped === old.replace(/\basync /, "")) return true;
  if (line.replace(/(,\s*)?\bLlmMetricsController\b/g, "") === old) return true;
  const from = (text: string) => /^\s*import\b.*\bfrom\s*(["'][^"']+["'])/.exec(text)?.[1] ?? /^from\s+([\w.]+)\s+import\b/.exec(text)?.[1];
  return from(old) !== undefined && from(old) === from(line);
}

/**
 * Added lines in runs (split by blank lines) that hold a fixed addition. Blank lines next to such
 * a run belong to it (Python puts two around a top-level def).
 */
function fixedBlocks(lines: readonly string[]): number {
  const blocks: { blank: boolean; size: number; fixed: boolean }[] = [];
  for (const line of lines) {
    const blank = line.trim() === "";
    const last = blocks.at(-1);
    if (last && last.blank === blank) last.size++;
    else blocks.push({ blank, size: 1, fixed: false });
    if (!blank && FIXED.some((pattern) => pattern.test(line))) blocks.at(-1)!.fixed = true;
  }
  let fixed = 0;
  blocks.forEach((block, i) => {
    const counts = block.blank ? blocks[i - 1]?.fixed || blocks[i + 1]?.fixed : block.fixed;
    if (counts) fixed += block.size;
  });
  return fixed;
}

/**
 * The churn of a run already applied to `rootDir`, before it is rolled back: its manifest lists the
 * modified files and .llm-migrate/backup holds their originals (for the corpus runner, which runs
 * the CLI and reads `rewrittenSites` from `apply --json`).
 */
export async function churnOfAppliedRun(rootDir: string, rewrittenSites: number): Promise<Churn> {
  const { readFile } = await import("node:fs/promises");
  const { join } = await import("node:path");
  const manifest = JSON.parse(await readFile(join(rootDir, ".llm-migrate", "manifest.json"), "utf8")) as { files: { path: string; action: string }[] };
  const files: { before: string; after: string }[] = [];
  for (const file of manifest.files.filter((f) => f.action === "modified" && SOURCE.test(f.path))) {
    const before = textOf(await readFile(join(rootDir, ".llm-migrate", "backup", file.path)));
    files.push({ before, after: textOf(await readFile(join(rootDir, file.path))) });
  }
  return churnOf(files, rewrittenSites);
}
