/** The checks verify makes, from what it saw. Pure functions: the run collects, these judge. */
import { formatRoute, type Route } from "./routes.js";

export interface Answer {
  /** HTTP status, or 0 when no answer came (connection refused, timed out). */
  status: number;
  /** Start of the body (or the network error), for the message when it is not 2xx. */
  excerpt: string;
}

export interface MetricsRead {
  ok: boolean;
  /** The parsed JSON when /metrics/llm answered 200 with JSON. */
  json?: Record<string, unknown>;
  problem?: string;
}

/** One boot of the server and one burst of requests against it. */
export interface Phase {
  answers: Answer[];
  wallMs: number;
  upstreamPeakInFlight: number;
  upstreamRequests: number;
  /** /metrics/llm after the warm-up request and after the burst. */
  metricsBefore: MetricsRead;
  metricsAfter: MetricsRead;
}

export interface VerifySettings {
  route: Route;
  requests: number;
  poolSize: number;
  latencyMs: number;
}

export type CheckName = "gated" | "boots" | "answered" | "concurrency" | "wall time" | "metrics" | "legacy flag";

export interface Check {
  name: CheckName;
  status: "pass" | "fail" | "skipped";
  /** One line: what was seen, and for a failure what it means. */
  message: string;
}

export function expectedWallMs(settings: VerifySettings): number {
  return settings.latencyMs * Math.ceil(settings.requests / settings.poolSize);
}

/**
 * The range a healthy burst takes. Generous on purpose, so a loaded CI machine does not fail a
 * healthy server: from 0.75× the expected time up to halfway to what one-at-a-time calls would
 * take (or 2× + 250 ms when the pool is 1 and the two are the same).
 */
export function wallTimeRange(settings: VerifySettings): { lowMs: number; highMs: number } {
  const expected = expectedWallMs(settings);
  const serialised = settings.latencyMs * settings.requests;
  const highMs = serialised > expected ? expected + (serialised - expected) / 2 : expected * 2 + 250;
  return { lowMs: expected * 0.75, highMs };
}

function okCount(answers: Answer[]): number {
  return answers.filter((a) => a.status >= 200 && a.status < 300).length;
}

function answeredMessage(answers: Answer[]): string {
  const ok = okCount(answers);
  const message = `${ok}/${answers.length} answered 2xx`;
  const bad = answers.find((a) => a.status < 200 || a.status >= 300);
  if (!bad) return message;
  const byStatus = new Map<number, number>();
  for (const a of answers) if (a.status < 200 || a.status >= 300) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
  const counts = [...byStatus].map(([status, n]) => `${status === 0 ? "no answer" : status} ×${n}`).join(", ");
  return `${message}; ${counts}; first: ${bad.excerpt}`;
}

export function gatedCheck(notGated: { file: string; line: number; callee: string }[]): Check {
  if (notGated.length === 0) return { name: "gated", status: "pass", message: "every call site the migration knows is gated" };
  const where = notGated.map((site) => `${site.file}:${site.line} ${site.callee}`).join(", ");
  return { name: "gated", status: "fail", message: `not gated: ${where} (llm-migrate apply would rewrite ${notGated.length === 1 ? "it" : "them"})` };
}

export function answeredCheck(phase: Phase): Check {
  const all = okCount(phase.answers) === phase.answers.length;
  return { name: "answered", status: all ? "pass" : "fail", message: answeredMessage(phase.answers) };
}

export function concurrencyCheck(phase: Phase, settings: VerifySettings): Check {
  const peak = phase.upstreamPeakInFlight;
  const pool = settings.poolSize;
  const seen = `peak ${peak} in flight at the upstream (pool ${pool})`;
  if (peak > pool) return { name: "concurrency", status: "fail", message: `${seen}: calls bypass the pool; is LLM_POOL_SIZE read?` };
  // With a pool of 1 (or a single request) one call at a time is right.
  if (peak <= 1 && Math.min(pool, settings.requests) > 1) {
    return {
      name: "concurrency",
      status: "fail",
      message:
        `${seen}: the ${settings.requests} requests reached the upstream one at a time, so ${formatRoute(settings.route)} ` +
        "still calls the model in a blocking or serialised way (does the handler call the legacy client directly?)",
    };
  }
  return { name: "concurrency", status: "pass", message: seen };
}

export function wallTimeCheck(phase: Phase, settings: VerifySettings): Check {
  const expected = expectedWallMs(settings);
  const { lowMs, highMs } = wallTimeRange(settings);
  const seen =
    `${Math.round(phase.wallMs)} ms for ${settings.requests} requests, expected about ${expected} ms ` +
    `(${settings.latencyMs} ms × ceil(${settings.requests} / ${settings.poolSize}))`;
  if (phase.wallMs > highMs) return { name: "wall time", status: "fail", message: `${seen}: slower than a pool of ${settings.poolSize} would be` };
  if (phase.wallMs < lowMs) return { name: "wall time", status: "fail", message: `${seen}: faster than a pool of ${settings.poolSize} allows` };
  return { name: "wall time", status: "pass", message: seen };
}

function counter(json: Record<string, unknown> | undefined, ...path: string[]): number | undefined {
  let at: unknown = json;
  for (const key of path) at = at && typeof at === "object" ? (at as Record<string, unknown>)[key] : undefined;
  return typeof at === "number" ? at : undefined;
}

function delta(phase: Phase, ...path: string[]): number | undefined {
  const before = counter(phase.metricsBefore.json, ...path);
  const after = counter(phase.metricsAfter.json, ...path);
  return before === undefined || after === undefined ? undefined : after - before;
}

function metricsProblem(phase: Phase): string | undefined {
  const read = [phase.metricsBefore, phase.metricsAfter].find((m) => !m.ok);
  if (read) return read.problem ?? "/metrics/llm did not answer";
  if (phase.metricsAfter.json?.status === "legacy_mode") {
    return "/metrics/llm answers legacy_mode: no async client (is DISABLE_POOL set, or getAsyncLlmClient never called?)";
  }
  return undefined;
}

export function metricsCheck(phase: Phase, settings: VerifySettings): Check {
  const problem = metricsProblem(phase);
  if (problem) return { name: "metrics", status: "fail", message: problem };
  const requests = delta(phase, "requestsTotal");
  const onNew = delta(phase, "paths", "new");
  const onLegacy = delta(phase, "paths", "legacy");
  const errors = delta(phase, "errorsTotal");
  const pool = counter(phase.metricsAfter.json, "poolSize");
  const n = settings.requests;
  const seen = `/metrics/llm counted ${requests ?? "?"} requests, ${onNew ?? "?"} on the new path, ${onLegacy ?? "?"} legacy, ${errors ?? "?"} errors, pool ${pool ?? "?"}`;
  const wrong: string[] = [];
  if (requests !== n) wrong.push(`requestsTotal should grow by ${n}`);
  if (onNew !== n) wrong.push(`paths.new should grow by ${n}`);
  if (onLegacy !== 0) wrong.push("paths.legacy should not grow");
  if (errors !== 0) wrong.push("errorsTotal should not grow");
  if (pool !== settings.poolSize) wrong.push(`poolSize should be ${settings.poolSize} (LLM_POOL_SIZE)`);
  return wrong.length === 0
    ? { name: "metrics", status: "pass", message: seen }
    : { name: "metrics", status: "fail", message: `${seen}: ${wrong.join("; ")}` };
}

export function legacyFlagCheck(phase: Phase, settings: VerifySettings): Check {
  const answered = answeredMessage(phase.answers);
  const problem = metricsProblem(phase);
  if (problem) return { name: "legacy flag", status: "fail", message: `FORCE_LEGACY_LLM=true: ${answered}; ${problem}` };
  const onLegacy = delta(phase, "paths", "legacy");
  const onNew = delta(phase, "paths", "new");
  const seen = `FORCE_LEGACY_LLM=true: ${answered}, ${onLegacy ?? "?"} on the legacy path, ${onNew ?? "?"} on the new`;
  const n = settings.requests;
  const pass = okCount(phase.answers) === n && onLegacy === n && onNew === 0;
  return pass
    ? { name: "legacy flag", status: "pass", message: seen }
    : { name: "legacy flag", status: "fail", message: `${seen}: every request should take the original path (paths.legacy +${n})` };
}

export function skipped(name: CheckName, why: string): Check {
  return { name, status: "skipped", message: why };
}
