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
 * The request options handed to a task. `signal` must be an own, enumerable property, so the
 * SDK's `{ ...options }` copies a real signal; yet the AbortController behind it (several times
 * the cost of the rest of the gate) should only be made when something reads it. An own getter
 * costs a slow object per call (an object literal's getter, or Object.defineProperty: a tenth of
 * a microsecond or more); a Proxy over this small object with one shared handler costs almost
 * nothing to make and shows `signal` as an own data property to every reader.
 */
const hasOwn = (target: object, name: string): boolean => Object.prototype.hasOwnProperty.call(target, name);

class GateRequestOptions {
  readonly maxRetries = 0 as const;
  readonly timeout: number;
  /** Private: never copied, listed or logged with the options. */
  readonly #call: GatedCall;

  constructor(call: GatedCall, timeout: number) {
    this.#call = call;
    this.timeout = timeout;
  }

  static wrap(call: GatedCall, timeout: number): LlmRequestOptions {
    return new Proxy(new GateRequestOptions(call, timeout), GateRequestOptions.handler) as unknown as LlmRequestOptions;
  }

  /** `signal` reads the call's signal until someone sets one of their own. */
  private static readonly handler: ProxyHandler<GateRequestOptions> = {
    get(target, name, receiver) {
      return name === "signal" && !hasOwn(target, "signal") ? target.#call.signal : Reflect.get(target, name, receiver);
    },
    has(target, name) {
      return name === "signal" || Reflect.has(target, name);
    },
    ownKeys(target) {
      const names = Reflect.ownKeys(target);
      return names.includes("signal") ? names : [...names, "signal"];
    },
    getOwnPropertyDescriptor(target, name) {
      if (name !== "signal" || hasOwn(target, "signal")) return Reflect.getOwnPropertyDescriptor(target, name);
      return { value: target.#call.signal, writable: true, enumerable: true, configurable: true };
    },
  };
}

/**
 * One call through the gate. Two lifetimes meet here: the caller's (settled once, at success,
 * failure, deadline or abort; metrics are recorded then) and the slot's (held until the upstream
 * work really stops, so a task that ignores its signal still counts against the pool).
 * The AbortSignal is made only when something needs it: it costs more than the rest of the gate.
 * Nothing here is allocated per call beyond the call itself and its run() promise: the deadline
 * clock links calls through their own fields, and the call resolves run() itself.
 */
export class GatedCall implements QueueTicket {
  readonly startedAt: number;
  readonly deadlineAt: number;
  /** What the call is, for the metrics' OpenTelemetry labels. */
  readonly labels: CallLabels;
  release: Release | undefined = undefined;
  leave: ((reason: unknown) => void) | undefined = undefined;
  /** A stream result: the call settles when the stream ends, not when run() resolves. */
  streaming = false;
  /** Neighbours in the deadline clock's list of running calls. */
  prevRunning: GatedCall | undefined = undefined;
  nextRunning: GatedCall | undefined = undefined;
  private readonly timeoutMs: number;
  private readonly metrics: LlmMetrics;
  private readonly clock: DeadlineClock;
  private controller: AbortController | undefined = undefined;
  private reason: LlmError | undefined = undefined;
  private resolveRun: ((value: unknown) => void) | undefined = undefined;
  private rejectRun: ((reason: unknown) => void) | undefined = undefined;
  private detachCaller: (() => void) | undefined = undefined;
  private settled = false;

  constructor(timeoutMs: number, metrics: LlmMetrics, clock: DeadlineClock, labels: CallLabels = OPAQUE_CALL) {
    this.startedAt = Date.now();
    this.timeoutMs = timeoutMs;
    this.deadlineAt = this.startedAt + timeoutMs;
    this.metrics = metrics;
    this.clock = clock;
    this.labels = labels;
    clock.watch(this);
  }

  /**
   * Take run()'s resolvers and arm the caller's signal (the deadline is watched by the clock);
   * either one rejects the run at once.
   */
  start(resolveRun: (value: unknown) => void, rejectRun: (reason: unknown) => void, callerSignal: AbortSignal | undefined): void {
    this.resolveRun = resolveRun;
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

  /** The task's answer: run() resolves with it (a stream settles the call later, when it ends). */
  succeed(value: unknown): void {
    if (!this.streaming) this.settle();
    this.resolveRun?.(value);
  }

  /** The call failed: run() rejects with `err` (unless the deadline or the caller already rejected it). */
  fail(err: unknown): void {
    this.settle(err);
    this.rejectRun?.(err);
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

  remainingMs(now = Date.now()): number {
    return this.deadlineAt - now;
  }

  /** Request options for an attempt sent at `now` (epoch ms). */
  requestOptions(now: number): LlmRequestOptions {
    return GateRequestOptions.wrap(this, Math.max(1, this.deadlineAt - now));
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

  settle(err?: unknown, now = Date.now()): void {
    if (this.settled) return;
    this.settled = true;
    this.detachCaller?.();
    this.clock.forget(this);
    this.metrics.recordCall(now - this.startedAt, err === undefined ? undefined : errorTypeOf(err), now);
  }
}

/** How often the deadline clock looks; a deadline fires at most this late. */
const TICK_MS = 10;

/**
 * One timer for every running call's deadline. A setTimeout and its clearTimeout per call cost
 * more than the rest of a gated call; this clock checks the running calls every TICK_MS while
 * any exist, and stops at the first tick that finds none. The running calls form a list through
 * their own fields, so watching and forgetting a call allocates nothing.
 */
export class DeadlineClock {
  private head: GatedCall | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  watch(call: GatedCall): void {
    call.nextRunning = this.head;
    if (this.head) this.head.prevRunning = call;
    this.head = call;
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    unrefTimer(this.timer);
  }

  forget(call: GatedCall): void {
    if (call.prevRunning) call.prevRunning.nextRunning = call.nextRunning;
    else if (this.head === call) this.head = call.nextRunning;
    else return; // not in the list
    if (call.nextRunning) call.nextRunning.prevRunning = call.prevRunning;
    call.prevRunning = call.nextRunning = undefined;
  }

  /** The calls not yet settled (drain aborts them). */
  running(): GatedCall[] {
    const calls: GatedCall[] = [];
    for (let call = this.head; call; call = call.nextRunning) calls.push(call);
    return calls;
  }

  private tick(): void {
    if (!this.head) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = Date.now();
    let call: GatedCall | undefined = this.head;
    while (call) {
      const next: GatedCall | undefined = call.nextRunning; // expiring a call takes it out of the list
      if (call.deadlineAt <= now) call.expire();
      call = next;
    }
  }
}
