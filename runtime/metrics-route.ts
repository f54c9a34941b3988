/**
 * GET /metrics/llm: JSON by default, Prometheus text when asked, in every mode (pooled, auto,
 * EMERGENCY_MODE, DISABLE_POOL, no client yet), and off or behind a bearer token when configured.
 */
import { timingSafeEqual } from "node:crypto";
import { existingAsyncLlmClient, getPathCounts } from "./client.js";
import { envFlag } from "./flags.js";
import { hasFunctions, isObject, JSON_TYPE } from "./http.js";

/** Prometheus text exposition 0.0.4, what prom-client's registry answers with too. */
const PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface LlmMetricsRequest {
  /** `?format=` as the framework parsed it. */
  format?: unknown;
  /** The parsed query object or a `URLSearchParams`, when `format` is not given. */
  query?: unknown;
  /**
   * The request's headers, as node:http (`req.headers`) or a Fetch `Headers` has them: Accept and
   * Authorization are read from them when not given on their own.
   */
  headers?: unknown;
  /** The Accept header. */
  accept?: unknown;
  /** The Authorization header, checked when LLM_METRICS_TOKEN is set. */
  authorization?: unknown;
}

export interface LlmMetricsReply {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

/** `format` from a parsed query object or a `URLSearchParams`, whichever the framework has. */
function formatOf(query: unknown): unknown {
  if (hasFunctions(query, "get")) return query.get("format") ?? undefined;
  return isObject(query) ? query.format : undefined;
}

/** A header from node:http's lower-cased object or a Fetch `Headers`. */
function headerOf(headers: unknown, name: "accept" | "authorization"): unknown {
  if (hasFunctions(headers, "get")) return headers.get(name) ?? undefined;
  return isObject(headers) ? headers[name] : undefined;
}

function firstString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && typeof value[0] === "string") return value[0];
  return undefined;
}

/**
 * Who may read the route: LLM_METRICS=off turns it off (404); LLM_METRICS_TOKEN asks for
 * `Authorization: Bearer <token>` (401 without it). Undefined when the request may go on.
 */
function refused(authorization: unknown): LlmMetricsReply | undefined {
  const setting = process.env["LLM_METRICS"]?.trim().toLowerCase();
  if (setting === "off" || setting === "false" || setting === "0" || setting === "no") {
    return { status: 404, contentType: JSON_TYPE, body: JSON.stringify({ error: "not found" }) };
  }
  const token = process.env["LLM_METRICS_TOKEN"];
  if (!token) return undefined;
  const given = Buffer.from(firstString(authorization) ?? "");
  const expected = Buffer.from(`Bearer ${token}`);
  // Compared in constant time, so the token cannot be guessed byte by byte from response times.
  if (given.length === expected.length && timingSafeEqual(given, expected)) return undefined;
  return {
    status: 401,
    contentType: JSON_TYPE,
    body: JSON.stringify({ error: "unauthorized" }),
    headers: { "WWW-Authenticate": 'Bearer realm="llm-metrics"' },
  };
}

/** With no client: the path counts and the mode, so a scrape still sees the target up. */
function legacyModeText(): string {
  const paths = getPathCounts();
  return [
    "# HELP llm_gate_enabled 1 while calls go through the gate, 0 in legacy mode (no client, DISABLE_POOL)",
    "# TYPE llm_gate_enabled gauge",
    "llm_gate_enabled 0",
    "# HELP llm_path_total Call sites that took the new (gated) or the legacy path",
    "# TYPE llm_path_total counter",
    `llm_path_total{path="new"} ${paths.new}`,
    `llm_path_total{path="legacy"} ${paths.legacy}`,
    "",
  ].join("\n");
}

/**
 * The body of GET /metrics/llm: JSON by default; Prometheus text for `?format=prometheus` (given
 * as `format`, or inside the request's `query`) or an Accept header asking for text/plain. With the
 * pool off the JSON is `{ status: "legacy_mode", warning, paths }` and the Prometheus text says
 * `llm_gate_enabled 0`, so a scrape never breaks during a rollback.
 */
export async function llmMetricsResponse(request: LlmMetricsRequest = {}): Promise<LlmMetricsReply> {
  const denied = refused(request.authorization ?? headerOf(request.headers, "authorization"));
  if (denied) return denied;
  const client = existingAsyncLlmClient();
  const format = firstString(request.format ?? formatOf(request.query))?.toLowerCase();
  const accept = firstString(request.accept ?? headerOf(request.headers, "accept"))?.toLowerCase() ?? "";
  const prometheus = format === "prometheus" || (format === undefined && accept.includes("text/plain"));
  if (prometheus) {
    // With DISABLE_POOL the client's own text still counts (llm_gate_enabled says 0).
    return client
      ? { status: 200, contentType: client.metricsContentType, body: await client.metricsText() }
      : { status: 200, contentType: PROMETHEUS_TYPE, body: legacyModeText() };
  }
  if (!client || envFlag("DISABLE_POOL")) {
    const warning = client
      ? "DISABLE_POOL is set: every call takes the legacy path"
      : "no async LLM client was created: every call takes the legacy path";
    return { status: 200, contentType: JSON_TYPE, body: JSON.stringify({ status: "legacy_mode", warning, paths: getPathCounts() }) };
  }
  return { status: 200, contentType: JSON_TYPE, body: JSON.stringify(client.getMetrics()) };
}

/**
 * Answers GET /metrics/llm on a request and response of Express, Fastify or node:http (what
 * Nest hands a controller through `@Req()` and `@Res()`), found by their shape.
 */
export async function sendLlmMetrics(request: unknown, response: unknown): Promise<void> {
  const req = isObject(request) ? request : {};
  const metrics = await llmMetricsResponse({ query: req.query, headers: req.headers });
  const replyHeaders = { "content-type": metrics.contentType, ...metrics.headers };
  if (hasFunctions(response, "code", "header", "send")) {
    for (const [name, value] of Object.entries(replyHeaders)) response.header(name, value);
    await response.code(metrics.status).send(metrics.body);
  } else if (hasFunctions(response, "writeHead", "end")) {
    response.writeHead(metrics.status, replyHeaders);
    response.end(metrics.body);
  }
}
