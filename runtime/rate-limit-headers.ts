/**
 * What the upstream says about its own rate limits, read from response headers so the limit can
 * slow down before a 429 comes: OpenAI's `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`
 * and Anthropic's `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`.
 */

export interface RateLimitReading {
  /** Requests the upstream takes per window. NaN when not said. */
  limitRequests: number;
  /** Requests the upstream still takes (in its current window). NaN when not said. */
  remainingRequests: number;
  /** Tokens the upstream still takes. NaN when not said. */
  remainingTokens: number;
  /** Time until the token budget is back (ms). NaN when not said. */
  tokensResetMs: number;
}

type HeaderSource = { get(name: string): string | null } | Record<string, unknown>;

function header(headers: HeaderSource, name: string): string | undefined {
  const get = (headers as { get?: unknown }).get;
  const value = typeof get === "function" ? (get as (name: string) => unknown).call(headers, name) : (headers as Record<string, unknown>)[name];
  return typeof value === "string" ? value : undefined;
}

function count(headers: HeaderSource, ...names: string[]): number {
  let least = Number.NaN;
  for (const name of names) {
    const text = header(headers, name);
    if (text === undefined) continue;
    const value = Number(text);
    if (Number.isFinite(value) && !(value >= least)) least = value;
  }
  return least;
}

/** OpenAI's durations (`6m0s`, `1.5s`, `250ms`) or Anthropic's RFC 3339 instants, in ms from now. */
export function resetMs(text: string | undefined, now = Date.now()): number {
  if (text === undefined) return Number.NaN;
  if (/^\d{4}-\d\d-\d\dT/.test(text)) {
    const at = Date.parse(text);
    return Number.isNaN(at) ? Number.NaN : Math.max(0, at - now);
  }
  let total = 0;
  let matched = false;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    matched = true;
    total += Number(amount) * (unit === "h" ? 3_600_000 : unit === "m" ? 60_000 : unit === "s" ? 1000 : 1);
  }
  return matched ? total : Number.NaN;
}

/** The reading of one response's headers, or undefined when it carries none of them. */
export function readRateLimitHeaders(headers: HeaderSource | undefined): RateLimitReading | undefined {
  if (!headers || typeof headers !== "object") return undefined;
  const remainingRequests = count(headers, "x-ratelimit-remaining-requests", "anthropic-ratelimit-requests-remaining");
  const remainingTokens = count(
    headers,
    "x-ratelimit-remaining-tokens",
    "anthropic-ratelimit-tokens-remaining",
    "anthropic-ratelimit-input-tokens-remaining",
    "anthropic-ratelimit-output-tokens-remaining",
  );
  if (Number.isNaN(remainingRequests) && Number.isNaN(remainingTokens)) return undefined;
  const limitRequests = count(headers, "x-ratelimit-limit-requests", "anthropic-ratelimit-requests-limit");
  const tokensResetMs = resetMs(header(headers, "x-ratelimit-reset-tokens") ?? header(headers, "anthropic-ratelimit-tokens-reset"));
  return { limitRequests, remainingRequests, remainingTokens, tokensResetMs };
}

/**
 * More calls the upstream would take beyond the `inFlight` out when the call was sent: the least
 * of its remaining requests, its remaining tokens divided by what a call typically uses, and its
 * request limit less what was out (no upstream takes more at once than its whole per-window
 * budget, so that limit is a ceiling whatever the window). NaN when the reading says none of these.
 */
export function headroomOf(reading: RateLimitReading | undefined, tokensPerCall: number, inFlight: number): number {
  if (!reading) return Number.NaN;
  const byTokens = tokensPerCall > 0 ? Math.floor(reading.remainingTokens / tokensPerCall) : Number.NaN;
  let least = Number.NaN;
  for (const value of [reading.remainingRequests, byTokens, reading.limitRequests - inFlight]) {
    if (!Number.isNaN(value) && !(value >= least)) least = value;
  }
  return Number.isNaN(least) ? least : Math.max(0, least);
}
