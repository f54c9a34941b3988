/**
 * Typed errors of the runtime. Every one carries a stable `code`, whether the caller may
 * retry (`retryable`) and, when known, how long to wait first (`retryAfterMs`).
 */
export class LlmError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  // `declare` so older `lib` settings without Error.cause still compile.
  declare readonly cause?: unknown;

  constructor(
    message: string,
    details: { code: string; retryable: boolean; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message);
    // Keeps `instanceof` working when a user's project compiles this to ES5.
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = new.target.name;
    this.code = details.code;
    this.retryable = details.retryable;
    this.retryAfterMs = details.retryAfterMs;
    if (details.cause !== undefined) {
      Object.defineProperty(this, "cause", { value: details.cause, enumerable: false, writable: true, configurable: true });
    }
  }
}

/** The bounded queue in front of the pool is full. */
export class LlmQueueFullError extends LlmError {
  constructor(details: { maxQueue: number; retryAfterMs: number }) {
    super(`LLM queue is full (${details.maxQueue} waiting)`, {
      code: "llm_queue_full",
      retryable: true,
      retryAfterMs: details.retryAfterMs,
    });
  }
}

/** The call's one deadline (queue wait + every attempt + every backoff) passed. */
export class LlmTimeoutError extends LlmError {
  constructor(details: { timeoutMs: number; retryAfterMs?: number; cause?: unknown }) {
    super(`LLM call did not finish within ${details.timeoutMs} ms`, {
      code: "llm_timeout",
      retryable: true,
      retryAfterMs: details.retryAfterMs ?? 1000,
      cause: details.cause,
    });
  }
}

/** EMERGENCY_MODE is on and every slot is busy: the call is shed instead of queued. */
export class LlmOverloadedError extends LlmError {
  constructor(details: { retryAfterMs: number }) {
    super("LLM pool is full and EMERGENCY_MODE sheds load", {
      code: "llm_overloaded",
      retryable: true,
      retryAfterMs: details.retryAfterMs,
    });
  }
}

/**
 * The upstream asked everyone to wait (a 429's Retry-After) for longer than this call has left:
 * it fails at once, and Retry-After tells the caller when the pause ends.
 */
export class LlmRateLimitedError extends LlmError {
  constructor(details: { retryAfterMs: number; cause?: unknown }) {
    super(`LLM upstream is rate limited for another ${Math.ceil(details.retryAfterMs)} ms`, {
      code: "llm_rate_limited",
      retryable: true,
      retryAfterMs: details.retryAfterMs,
      cause: details.cause,
    });
  }
}

/** The client is draining for shutdown and takes no more calls. */
export class LlmDrainingError extends LlmError {
  constructor() {
    super("LLM client is shutting down", { code: "llm_draining", retryable: true, retryAfterMs: 1000 });
  }
}

/** The upstream API kept failing with a retryable status after every retry. */
export class LlmUpstreamError extends LlmError {
  /** HTTP status of the last upstream answer; undefined for a connection error. */
  readonly status: number | undefined;

  constructor(details: { status: number | undefined; attempts: number; retryAfterMs?: number; cause: unknown }) {
    super(
      `LLM upstream failed after ${details.attempts} attempt(s)` + (details.status ? ` (last status ${details.status})` : ""),
      { code: "llm_upstream", retryable: true, retryAfterMs: details.retryAfterMs ?? 1000, cause: details.cause },
    );
    this.status = details.status;
  }
}

/** The caller's AbortSignal fired. Not retryable: the caller asked to stop. */
export class LlmAbortedError extends LlmError {
  constructor(cause?: unknown) {
    super("LLM call was aborted by the caller", { code: "llm_aborted", retryable: false, cause });
  }
}
