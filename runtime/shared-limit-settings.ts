/**
 * The shared limit's settings, from the environment (LLM_REDIS_URL and friends; see README.md).
 */

export interface SharedLimitSettings {
  url: string;
  /** Slots across every replica (LLM_GLOBAL_POOL_SIZE). */
  limit: number;
  /** Lease time to live in ms (LLM_REDIS_LEASE_MS). */
  leaseMs: number;
  /** Key prefix (LLM_REDIS_PREFIX): replicas with the same prefix share one limit. */
  prefix: string;
  /** Local pool while Redis is away (LLM_REDIS_FALLBACK_POOL_SIZE); default limit ÷ live replicas. */
  fallbackPoolSize: number | undefined;
  /** After Redis comes back, at most how long to hold to the local pool's size while the other replicas re-register their calls. */
  settleMs: number;
}

/** The shared limit the environment asks for, or undefined when LLM_REDIS_URL is unset. */
export function sharedLimitFromEnv(poolSize: number, env: NodeJS.ProcessEnv = process.env): SharedLimitSettings | undefined {
  const url = env["LLM_REDIS_URL"]?.trim();
  if (!url) return undefined;
  const number = (name: string, min: number) => {
    const value = Number(env[name]);
    return env[name]?.trim() && Number.isFinite(value) && value >= min ? Math.floor(value) : undefined;
  };
  return {
    url,
    limit: number("LLM_GLOBAL_POOL_SIZE", 1) ?? poolSize,
    leaseMs: number("LLM_REDIS_LEASE_MS", 100) ?? 10_000,
    prefix: env["LLM_REDIS_PREFIX"]?.trim() || "llm-runtime",
    fallbackPoolSize: number("LLM_REDIS_FALLBACK_POOL_SIZE", 1),
    settleMs: number("LLM_REDIS_SETTLE_MS", 0) ?? 5000,
  };
}
