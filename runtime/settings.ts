/**
 * The client's settings: environment first, then the option written in code, then the default.
 */
import { envNumber } from "./flags.js";
import { AimdLimit, FixedLimit, type ConcurrencyLimit } from "./limit.js";
import { DEFAULT_MAX_RETRY_AFTER_MS } from "./retry.js";

export interface AsyncLlmClientOptions {
  /** Concurrent upstream calls, or "auto" to find the upstream's capacity. Default 10; LLM_POOL_SIZE overrides. */
  poolSize?: number | "auto";
  /** Bounds of an "auto" pool. Defaults 1 and 100; LLM_POOL_MIN / LLM_POOL_MAX override. */
  poolMin?: number;
  poolMax?: number;
  /** Share of users on the new path, 0–100. Default 100; LLM_CANARY_PERCENT overrides on every call. */
  canaryPercent?: number;
  /** Calls allowed to wait for a slot. Default 1000; LLM_MAX_QUEUE overrides. */
  maxQueue?: number;
  /** One deadline per call covering queue wait, every attempt and every backoff. Default 60000; LLM_TIMEOUT_MS overrides. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 3; LLM_MAX_RETRIES overrides. */
  maxRetries?: number;
  /** Longest Retry-After obeyed (longer ones are cut to it). Default 60000; LLM_MAX_RETRY_AFTER_MS overrides. */
  maxRetryAfterMs?: number;
  /** Model for generateResponseAsync. Default: LLM_MODEL, else "gpt-4o-mini". */
  model?: string;
  /** API for generateResponseAsync. Default: LLM_API, else "responses". */
  api?: "responses" | "chat";
  /** An existing OpenAI (or AzureOpenAI) instance to reuse, so its apiKey/baseURL/Azure setup is kept. */
  openai?: unknown;
  /** A limit algorithm of your own (a shared one, say); it replaces poolSize. */
  limit?: ConcurrencyLimit;
}

export interface ClientSettings {
  /** The pool's size for a fixed pool, "auto" for an adaptive one. */
  poolSize: number | "auto";
  poolMin: number;
  poolMax: number;
  canaryPercent: number;
  maxQueue: number;
  timeoutMs: number;
  maxRetries: number;
  maxRetryAfterMs: number;
  model: string | undefined;
  api: "responses" | "chat";
  openai: unknown;
}

const DEFAULTS = {
  poolSize: 10,
  poolMin: 1,
  poolMax: 100,
  canaryPercent: 100,
  maxQueue: 1000,
  timeoutMs: 60_000,
  maxRetries: 3,
  maxRetryAfterMs: DEFAULT_MAX_RETRY_AFTER_MS,
};

/** Environment first, then the option written in code, then the default; nonsense values are skipped. */
function setting(envName: string, option: number | undefined, fallback: number, min: number): number {
  for (const value of [envNumber(envName), option]) {
    if (value !== undefined && Number.isFinite(value) && value >= min) return Math.floor(value);
  }
  return fallback;
}

function poolSizeSetting(option: number | "auto" | undefined): number | "auto" {
  const env = process.env["LLM_POOL_SIZE"]?.trim().toLowerCase();
  if (env === "auto") return "auto";
  if (option === "auto" && envNumber("LLM_POOL_SIZE") === undefined) return "auto";
  return setting("LLM_POOL_SIZE", option === "auto" ? undefined : option, DEFAULTS.poolSize, 1);
}

export function resolveSettings(options: AsyncLlmClientOptions): ClientSettings {
  const envApi = process.env["LLM_API"];
  const poolMin = setting("LLM_POOL_MIN", options.poolMin, DEFAULTS.poolMin, 1);
  return {
    poolSize: poolSizeSetting(options.poolSize),
    poolMin,
    poolMax: Math.max(poolMin, setting("LLM_POOL_MAX", options.poolMax, DEFAULTS.poolMax, 1)),
    canaryPercent: options.canaryPercent ?? DEFAULTS.canaryPercent,
    maxQueue: setting("LLM_MAX_QUEUE", options.maxQueue, DEFAULTS.maxQueue, 0),
    timeoutMs: setting("LLM_TIMEOUT_MS", options.timeoutMs, DEFAULTS.timeoutMs, 1),
    maxRetries: setting("LLM_MAX_RETRIES", options.maxRetries, DEFAULTS.maxRetries, 0),
    maxRetryAfterMs: setting("LLM_MAX_RETRY_AFTER_MS", options.maxRetryAfterMs, DEFAULTS.maxRetryAfterMs, 0),
    model: options.model,
    api: options.api ?? (envApi === "chat" || envApi === "responses" ? envApi : "responses"),
    openai: options.openai,
  };
}

/** The limit algorithm the settings ask for: fixed at poolSize, or AIMD between poolMin and poolMax. */
export function limitFor(settings: ClientSettings): ConcurrencyLimit {
  if (settings.poolSize === "auto") return new AimdLimit({ min: settings.poolMin, max: settings.poolMax });
  return new FixedLimit(settings.poolSize);
}
