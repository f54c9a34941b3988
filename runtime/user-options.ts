/**
 * Request options the user wrote on a gated SDK call (`create(params, { timeout: 500000 })`) keep
 * their values on the new path. How they combine with the gate's own options:
 * - `timeout`: the user's value is the per-request timeout, and also the call's deadline (queue
 *   wait, attempts and backoffs together) in place of LLM_TIMEOUT_MS, so a long call is not cut
 *   short at the runtime's 60 s.
 * - `signal`: both abort the call: the user's signal and the gate's (deadline, drain).
 * - `maxRetries` and anything else (headers, query, idempotencyKey): the user's value, as written.
 *   The runtime retries too; a user `maxRetries` multiplies with LLM_MAX_RETRIES.
 */
import type { LlmRequestOptions } from "./call.js";

export interface UserRequestOptions {
  signal?: AbortSignal | null | undefined;
  timeout?: number | undefined;
}

/** The call's own deadline in milliseconds, when the user gave a timeout. */
export function userDeadlineMs(user: UserRequestOptions | undefined): number | undefined {
  const timeout = user?.timeout;
  return typeof timeout === "number" && Number.isFinite(timeout) && timeout > 0 ? timeout : undefined;
}

/** The gate's request options with the user's laid over them, the two signals combined. */
export function mergeRequestOptions<U extends UserRequestOptions>(user: U | undefined, gate: LlmRequestOptions): LlmRequestOptions | U {
  if (!user) return gate;
  const signal = user.signal ? AbortSignal.any([gate.signal, user.signal]) : gate.signal;
  return { ...gate, ...user, signal };
}
