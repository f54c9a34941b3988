/**
 * One gated call's own state: its deadline, its slot, its abort signal, and how a stream result
 * keeps the slot until it has been read.
 */
import { LlmAbortedError, LlmError, LlmTimeoutError } from "./errors.js";
import { unrefTimer, type QueueTicket, type Release } from "./gate.js";
import { OPAQUE_CALL, type CallLabels, type ErrorType, type LlmMetrics } from "./metrics.js";

/** Request options `run` hands to the task; pass them as the SDK call's second argument. */
export interface LlmRequestOptions {
  signal: AbortSignal;
  /** Retries happen in one place, the runtime, never stacked on the SDK's own. */
  maxRetries: 0;
  /** Milliseconds left of the call's deadline. */
  timeout: number;
}

function errorTypeOf(err: unknown): ErrorType {
  if (!(err instanceof LlmError)) return "other";
  switch (err.code) {
    case "llm_queue_full":
      return "queue_full";
    case "llm_timeout":
      return "timeout";
    case "llm_overloaded":
      return "overloaded";
    case "llm_draining":
      return "draining";
    case "llm_aborted":
      return "aborted";
    case "llm_upstream":
      return "upstream";
    case "llm_rate_limited":
      return "rate_limited";
    default:
      return "other";
  }
}

/** An SDK stream (or any async generator) that holds its slot while read; a Page is not one. */
export function isStream(value: unknown): value is AsyncIterable<unknown> & object {
  if (value === null || typeof value !== "object") return false;
  const candidate = value as Record<string | symbol, unknown>;
  if (typeof candidate[Symbol.asyncIterator] !== "function" || typeof candidate["getNextPage"] === "function") return false;
  return typeof get(candidate["controller"], "abort") === "function" || typeof candidate["next"] === "function";
}

function get(value: unknown, name: string): unknown {
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>)[name] : undefined;
}

/**
 * Make `stream`'s iterator call `finish` exactly once when it ends, throws or is returned early.
 * The same object is handed back so its type and other methods stay the user's.
 */
function finishWhenStreamEnds<T extends object>(stream: T, finish: (err?: unknown) => void): T {
  const iterable = stream as unknown as AsyncIterable<unknown>;
  const openIterator = iterable[Symbol.asyncIterator].bind(stream);
  Object.defineProperty(stream, Symbol.asyncIterator, {
    configurable: true,
    writable: true,
    value: function wrappedAsyncIterator(): AsyncIterator<unknown> {
      const inner = openIterator();
      const wrapped: AsyncIterator<unknown> & AsyncIterable<unknown> = {
        async next(...args: [] | [unknown]) {
          try {
            const result = await inner.next(...args);
            if (result.done) finish();
            return result;
          } catch (err) {
            finish(err);
            throw err;
          }
        },
        async return(value?: unknown) {
          try {
            return inner.return ? await inner.return(value) : { done: true, value };
          } finally {
            finish();
          }
        },
        [Symbol.asyncIterator]() {
          return wrapped;
        },
      };
      return wrapped;
    },
  });
  return stream;
}

/**
 * The SDK's helper streams (`chat.completions.stream()`, `responses.stream()`) can be read through
 * events or `finalChatCompletion()` without ever being iterated: their end events free the slot too.
 */
function finishOnStreamEvents(stream: object, finish: (err?: unknown) => void): void {
  const on = (stream as { on?: unknown }).on;
  if (typeof on !== "function") return;
  on.call(stream, "end", () => finish());
  on.call(stream, "error", (err: unknown) => finish(err));
  on.call(stream, "abort", (err: unknown) => finish(err));
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * One call through the gate. Two lifetimes meet here: the caller's (settled once, at success,
 * failure, deadline or abort; metrics are recorded then) and the slot's (held until the upstream
 * work really stops, so a task that ignores its signal still counts against the pool).
 * The AbortSignal is made only when something needs it: it costs more than the rest of the gate.
 */
export class GatedCall implements QueueTicket {
  readonly startedAt = Date.now();
  readonly deadlineAt: number;
  /** What the call is, for the metrics' OpenTelemetry labels. */
  labels: CallLabels = OPAQUE_CALL;
  release: Release | undefined;
  leave: ((reason: unknown) => void) | undefined;
  /** A stream result: the call settles when the stream ends, not when run() resolves. */
  streaming = false;
  private readonly timeoutMs: number;
  private readonly metrics: LlmMetrics;
  private readonly onSettled: () => void;
  private controller: AbortController | undefined;
  private reason: LlmError | undefined;
  private rejectRun: ((reason: unknown) => void) | undefined;
  private detachCaller: (() => void) | undefined;
  private settled = false;

  constructor(timeoutMs: number, metrics: LlmMetrics, onSettled: () => void) {
    this.timeoutMs = timeoutMs;
    this.deadlineAt = this.startedAt + timeoutMs;
    this.metrics = metrics;
    this.onSettled = onSettled;
  }

  /** Arm the caller's signal (the deadline is watched by a DeadlineClock); either one rejects the run at once. */
  start(rejectRun: (reason: unknown) => void, callerSignal: AbortSignal | undefined): void {
    this.rejectRun = rejectRun;
    if (callerSignal) {
      const onCallerAbort = () => this.abort(new LlmAbortedError(callerSignal.reason));
      if (callerSignal.aborted) onCallerAbort();
      else {
        callerSignal.addEventListener("abort", onCallerAbort, { once: true });
        this.detachCaller = () => callerSignal.removeEventListener("abort", onCallerAbort);
      }
    }
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Why the call was stopped (deadline, caller, drain), if it was. */
  get abortReason(): LlmError | undefined {
    return this.reason;
  }

  abort(reason: LlmError): void {
    if (this.reason || this.settled) return;
    this.reason = reason;
    this.leave?.(reason);
    this.controller?.abort(reason);
    this.rejectRun?.(reason);
    this.settle(reason);
  }

  /** The deadline passed: stop the call, unless it is a stream being read (the deadline covered getting it). */
  expire(): void {
    if (!this.streaming) this.abort(new LlmTimeoutError({ timeoutMs: this.timeoutMs }));
  }

  remainingMs(): number {
    return this.deadlineAt - Date.now();
  }

  requestOptions(): LlmRequestOptions {
    const call = this;
    return {
      get signal() {
        return call.signal;
      },
      maxRetries: 0,
      timeout: Math.max(1, this.remainingMs()),
    };
  }

  releaseSlot(): void {
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  /** The deadline covers getting the answer; a stream then keeps its slot as long as it is read. */
  holdSlotWhileStreaming<S extends object>(stream: S): S {
    this.streaming = true;
    const end = (err?: unknown) => {
      this.releaseSlot();
      this.settle(err);
    };
    this.signal.addEventListener("abort", () => end(this.signal.reason), { once: true });
    finishOnStreamEvents(stream, end);
    return finishWhenStreamEnds(stream, end);
  }

  settle(err?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.detachCaller?.();
    this.onSettled();
    this.metrics.recordCall(Date.now() - this.startedAt, err === undefined ? undefined : errorTypeOf(err));
  }
}

/** How often the deadline clock looks; a deadline fires at most this late. */
const TICK_MS = 10;

/**
 * One timer for every running call's deadline. A setTimeout and its clearTimeout per call cost
 * more than the rest of a gated call; this clock checks the running calls every TICK_MS while
 * any exist, and stops at the first tick that finds none.
 */
export class DeadlineClock {
  /** The calls not yet settled (drain aborts them). */
  readonly running = new Set<GatedCall>();
  private timer: ReturnType<typeof setInterval> | undefined;

  watch(call: GatedCall): void {
    this.running.add(call);
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    unrefTimer(this.timer);
  }

  forget(call: GatedCall): void {
    this.running.delete(call);
  }

  private tick(): void {
    if (this.running.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = Date.now();
    for (const call of this.running) if (call.deadlineAt <= now) call.expire();
  }
}
