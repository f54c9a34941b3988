/**
 * Which upstream failures are worth another attempt, and how long to wait before it.
 * Duck-typed so it reads errors of openai v4+ (APIError), v3 (axios) and plain fetch wrappers alike.
 */

export interface UpstreamFailure {
  retryable: boolean;
  /** A 429 that is a rate limit (not insufficient_quota): the whole pool should pause. */
  rateLimited: boolean;
  status: number | undefined;
}

const RETRYABLE_STATUSES = new Set([408, 409, 429]);
const CONNECTION_ERROR_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
]);

type Loose = Record<string, unknown> | undefined;

function field(value: unknown, name: string): unknown {
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>)[name] : undefined;
}

export function upstreamStatus(err: unknown): number | undefined {
  const status = field(err, "status") ?? field(field(err, "response"), "status");
  return typeof status === "number" ? status : undefined;
}

/** The failed response's headers: a fetch `Headers` or a plain (axios) object. */
export function upstreamHeaders(err: unknown): Record<string, unknown> | undefined {
  const headers = field(err, "headers") ?? field(field(err, "response"), "headers");
  return headers && typeof headers === "object" ? (headers as Record<string, unknown>) : undefined;
}

/** A header of the failed response. */
export function upstreamHeader(err: unknown, name: string): string | undefined {
  const headers = upstreamHeaders(err);
  if (!headers) return undefined;
  const get = (headers as { get?: unknown }).get;
  const value = typeof get === "function" ? get.call(headers, name) : (headers as Record<string, unknown>)[name];
  return typeof value === "string" ? value : undefined;
}

function isInsufficientQuota(err: unknown): boolean {
  const body = field(err, "error") as Loose;
  const axiosBody = field(field(field(err, "response"), "data"), "error") as Loose;
  return [field(err, "code"), field(err, "type"), body?.["code"], body?.["type"], axiosBody?.["code"], axiosBody?.["type"]].includes(
    "insufficient_quota",
  );
}

function isConnectionError(err: unknown): boolean {
  const name = (err as { constructor?: { name?: string } } | undefined)?.constructor?.name;
  if (name === "APIConnectionError" || name === "APIConnectionTimeoutError") return true;
  const code = field(err, "code") ?? field(field(err, "cause"), "code");
  return typeof code === "string" && CONNECTION_ERROR_CODES.has(code);
}

export function classifyUpstreamFailure(err: unknown): UpstreamFailure {
  const status = upstreamStatus(err);
  if (isInsufficientQuota(err)) return { retryable: false, rateLimited: false, status };
  // The API may say explicitly; openai-node obeys this header too.
  const shouldRetry = upstreamHeader(err, "x-should-retry");
  if (shouldRetry === "false") return { retryable: false, rateLimited: false, status };
  if (status !== undefined) {
    const retryable = shouldRetry === "true" || RETRYABLE_STATUSES.has(status) || status >= 500;
    return { retryable, rateLimited: status === 429, status };
  }
  return { retryable: isConnectionError(err), rateLimited: false, status };
}

/** What the upstream asked for in `retry-after-ms` or `retry-after` (seconds or an HTTP date). */
export function retryAfterFromHeaders(err: unknown): number | undefined {
  const ms = Number.parseFloat(upstreamHeader(err, "retry-after-ms") ?? "");
  if (ms > 0) return ms;
  const after = upstreamHeader(err, "retry-after");
  if (after === undefined) return undefined;
  const seconds = Number.parseFloat(after);
  if (seconds > 0) return seconds * 1000;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * The longest Retry-After obeyed, by default. openai-node ignores a wish of 60 s or more and
 * falls back to its backoff; the runtime clamps instead: "an hour" still means "not now", and
 * after a minute one call probes again (every caller waits at most this, never the hour).
 */
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

/**
 * Wait before retry number `attempt + 1`: what the upstream asked for (at most `maxRetryAfterMs`),
 * else openai-node's own backoff (0.5 s doubling, at most 8 s, minus up to 25 % jitter).
 */
export function retryDelayMs(err: unknown, attempt: number, maxRetryAfterMs = DEFAULT_MAX_RETRY_AFTER_MS): number {
  const asked = retryAfterFromHeaders(err);
  if (asked !== undefined) return Math.min(asked, maxRetryAfterMs);
  const seconds = Math.min(0.5 * Math.pow(2, attempt), 8);
  return seconds * (1 - Math.random() * 0.25) * 1000;
}
