/**
 * Framework-neutral HTTP helpers: turn the runtime's retryable errors into 503 + Retry-After,
 * and answer GET /metrics/llm.
 */
import { existingAsyncLlmClient, getPathCounts } from "./client.js";
import { LlmError } from "./errors.js";
import { envFlag } from "./flags.js";

const JSON_TYPE = "application/json; charset=utf-8";

export interface LlmHttpErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: { code: string; message: string; retryable: true; retryAfterMs: number } };
}

/** 503 with Retry-After (whole seconds, at least 1) for the runtime's retryable errors; else undefined. */
export function llmHttpError(err: unknown): LlmHttpErrorResponse | undefined {
  if (!(err instanceof LlmError) || !err.retryable) return undefined;
  const retryAfterMs = err.retryAfterMs ?? 1000;
  return {
    status: 503,
    headers: { "Retry-After": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
    body: { error: { code: err.code, message: err.message, retryable: true, retryAfterMs: Math.ceil(retryAfterMs) } },
  };
}

interface ResponseLike {
  headersSent?: boolean;
  status?: (code: number) => unknown;
  json?: (body: unknown) => unknown;
  setHeader?: (name: string, value: string) => unknown;
  writeHead?: (status: number, headers: Record<string, string>) => unknown;
  end?: (body: string) => unknown;
}

function sendLlmHttpError(res: ResponseLike, mapped: LlmHttpErrorResponse): boolean {
  if (typeof res.status === "function" && typeof res.json === "function" && typeof res.setHeader === "function") {
    res.status(mapped.status);
    for (const [name, value] of Object.entries(mapped.headers)) res.setHeader(name, value);
    res.json(mapped.body);
    return true;
  }
  if (typeof res.writeHead === "function" && typeof res.end === "function") {
    res.writeHead(mapped.status, { ...mapped.headers, "Content-Type": JSON_TYPE });
    res.end(JSON.stringify(mapped.body));
    return true;
  }
  return false;
}

/**
 * Wrap an Express-style `(req, res, next)` handler: an LlmError that may be retried becomes
 * 503 + Retry-After JSON (unless headers were already sent); anything else goes to `next(err)`.
 */
export function handleLlmErrors<H extends (...args: any[]) => unknown>(handler: H): H {
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    const res = args[1] as ResponseLike | undefined;
    const next = args[2];
    const fail = (err: unknown): void => {
      const mapped = llmHttpError(err);
      if (mapped && res && !res.headersSent && sendLlmHttpError(res, mapped)) return;
      if (typeof next === "function") {
        next(err);
        return;
      }
      throw err;
    };
    try {
      const result = handler.apply(this, args);
      if (result !== null && typeof result === "object" && typeof (result as PromiseLike<unknown>).then === "function") {
        return Promise.resolve(result).then(undefined, fail);
      }
      return result;
    } catch (err) {
      return fail(err);
    }
  };
  return wrapped as unknown as H;
}

function firstString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && typeof value[0] === "string") return value[0];
  return undefined;
}

/**
 * The body of GET /metrics/llm: JSON by default; Prometheus text for `?format=prometheus` or an
 * Accept header asking for text/plain; `{ status: "legacy_mode", warning }` when the pool is off.
 */
export async function llmMetricsResponse(
  request: { format?: unknown; accept?: unknown } = {},
): Promise<{ status: number; contentType: string; body: string }> {
  const client = existingAsyncLlmClient();
  if (!client || envFlag("DISABLE_POOL")) {
    const warning = client
      ? "DISABLE_POOL is set: every call takes the legacy path"
      : "no async LLM client was created: every call takes the legacy path";
    return { status: 200, contentType: JSON_TYPE, body: JSON.stringify({ status: "legacy_mode", warning, paths: getPathCounts() }) };
  }
  const format = firstString(request.format)?.toLowerCase();
  const accept = firstString(request.accept)?.toLowerCase() ?? "";
  if (format === "prometheus" || (format === undefined && accept.includes("text/plain"))) {
    return { status: 200, contentType: client.metricsContentType, body: await client.metricsText() };
  }
  return { status: 200, contentType: JSON_TYPE, body: JSON.stringify(client.getMetrics()) };
}
