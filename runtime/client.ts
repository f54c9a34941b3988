/**
 * The process-wide, semaphore-gated async LLM client.
 */
import { OpenAI } from "openai";
import { GatedCall, isStream, sleep, type LlmRequestOptions } from "./call.js";
import { LlmDrainingError, LlmRateLimitedError, LlmTimeoutError, LlmUpstreamError } from "./errors.js";
import { envFlag, envNumber, isInCanary } from "./flags.js";
import { Gate, unrefTimer } from "./gate.js";
import { LlmMetrics, type LlmMetricsSnapshot, type PathCounts } from "./metrics.js";
import { gateFor, SharedGate, type SharedLimitSnapshot } from "./shared-gate.js";
import { classifyUpstreamFailure, DEFAULT_MAX_RETRY_AFTER_MS, retryDelayMs } from "./retry.js";

export type { LlmRequestOptions } from "./call.js";

export interface AsyncLlmClientOptions {
  /** Concurrent upstream calls. Default 10; LLM_POOL_SIZE overrides. */
  poolSize?: number;
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
}

export interface ChatMessageLike {
  role: string;
  content: unknown;
}

export interface RunOptions {
  /** The user key of the call (logged nowhere; used by useNewLlmPath for the canary). */
  key?: unknown;
  signal?: AbortSignal;
}

export interface GenerateOptions {
  signal?: AbortSignal;
  model?: string;
  api?: "responses" | "chat";
  key?: unknown;
}

export interface AsyncLlmClient {
  readonly poolSize: number;
  /**
   * Run one upstream call through the gate. `task` gets request options for the SDK. A stream
   * result (async iterable) keeps its slot until it is fully read, fails or is aborted.
   */
  run<T>(task: (options: LlmRequestOptions) => T | PromiseLike<T>, opts?: RunOptions): Promise<T>;
  /** One gated call with the runtime's own SDK instance; read the text with extractOutputText. */
  generateResponseAsync(messages: readonly ChatMessageLike[] | string, opts?: GenerateOptions): Promise<unknown>;
  getMetrics(): LlmMetricsSnapshot;
  /** Prometheus text exposition. */
  metricsText(): Promise<string>;
  readonly metricsContentType: string;
  /**
   * Shutdown: stop taking calls, fail queued ones with LlmDrainingError (retryable), let in-flight
   * ones finish. After `deadlineMs` the ones still running are aborted. Resolves true when all finished in time.
   */
  drain(deadlineMs?: number): Promise<boolean>;
}

interface ClientSettings {
  poolSize: number;
  canaryPercent: number;
  maxQueue: number;
  timeoutMs: number;
  maxRetries: number;
  maxRetryAfterMs: number;
  model: string | undefined;
  api: "responses" | "chat";
  openai: unknown;
}

/** The slice of the SDK the runtime calls; typed here so any openai v4+ (or Azure) instance fits. */
interface SdkLike {
  responses: { create(body: object, options?: object): PromiseLike<unknown> };
  chat: { completions: { create(body: object, options?: object): PromiseLike<unknown> } };
  withOptions?(options: { maxRetries: number }): SdkLike;
}

const DEFAULTS = {
  poolSize: 10,
  canaryPercent: 100,
  maxQueue: 1000,
  timeoutMs: 60_000,
  maxRetries: 3,
  maxRetryAfterMs: DEFAULT_MAX_RETRY_AFTER_MS,
};
/** openai-node refuses to start without a key; local OpenAI-compatible servers need none. */
const PLACEHOLDER_API_KEY = "no-api-key-set";

/** Environment first, then the option written in code, then the default; nonsense values are skipped. */
function setting(envName: string, option: number | undefined, fallback: number, min: number): number {
  for (const value of [envNumber(envName), option]) {
    if (value !== undefined && Number.isFinite(value) && value >= min) return Math.floor(value);
  }
  return fallback;
}

function resolveSettings(options: AsyncLlmClientOptions): ClientSettings {
  const envApi = process.env.LLM_API;
  return {
    poolSize: setting("LLM_POOL_SIZE", options.poolSize, DEFAULTS.poolSize, 1),
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

function toChatMessages(messages: readonly ChatMessageLike[] | string): readonly ChatMessageLike[] {
  return typeof messages === "string" ? [{ role: "user", content: messages }] : messages;
}

class GatedLlmClient implements AsyncLlmClient {
  readonly settings: ClientSettings;
  readonly gate: Gate | SharedGate;
  readonly metrics: LlmMetrics;
  private draining = false;
  private readonly running = new Set<GatedCall>();
  private sdk: SdkLike | undefined;

  constructor(settings: ClientSettings, paths: PathCounts) {
    this.settings = settings;
    // With LLM_REDIS_URL set, one limit across every replica (shared-limit.ts).
    this.gate = gateFor(new Gate(settings.poolSize, settings.maxQueue, () => this.metrics.typicalLatencyMs));
    this.metrics = new LlmMetrics(
      {
        poolSize: settings.poolSize,
        maxQueue: settings.maxQueue,
        inFlight: () => this.gate.inFlight,
        queued: () => this.gate.queued,
        pauseRemainingMs: () => this.gate.pauseRemainingMs(),
        emergencyMode: () => envFlag("EMERGENCY_MODE"),
        draining: () => this.draining,
      },
      paths,
    );
    if (this.gate instanceof SharedGate) this.gate.register(this.metrics.registry);
  }

  get poolSize(): number {
    return this.settings.poolSize;
  }

  get metricsContentType(): string {
    return this.metrics.contentType;
  }

  getMetrics(): LlmMetricsSnapshot & { shared?: SharedLimitSnapshot } {
    const snapshot = this.metrics.snapshot();
    return this.gate instanceof SharedGate ? { ...snapshot, shared: this.gate.snapshot() } : snapshot;
  }

  metricsText(): Promise<string> {
    return this.metrics.text();
  }

  run<T>(task: (options: LlmRequestOptions) => T | PromiseLike<T>, opts?: RunOptions): Promise<T> {
    const call = new GatedCall(this.settings.timeoutMs, this.metrics, () => this.running.delete(call));
    this.running.add(call);
    return new Promise<T>((resolve, reject) => {
      call.start(reject, opts?.signal);
      this.attempt(call, task).then(
        (value) => {
          if (!call.streaming) call.settle();
          resolve(value);
        },
        (err: unknown) => {
          call.settle(err);
          reject(err);
        },
      );
    });
  }

  private async attempt<T>(call: GatedCall, task: (options: LlmRequestOptions) => T | PromiseLike<T>): Promise<T> {
    if (this.draining) throw new LlmDrainingError();
    const { settings, metrics, gate } = this;
    for (let retries = 0; ; retries++) {
      if (call.abortReason) throw call.abortReason;
      call.release = retries === 0 ? gate.tryAcquire() : undefined;
      if (!call.release) {
        const queuedAt = Date.now();
        call.release = await gate.acquire({ ticket: call, front: retries > 0, shed: envFlag("EMERGENCY_MODE") });
        if (retries === 0) metrics.recordQueueWait(Date.now() - queuedAt);
      }
      let result: T;
      try {
        // The deadline or the caller may have fired while the slot was being handed over.
        if (call.abortReason) throw call.abortReason;
        result = await task(call.requestOptions());
      } catch (err) {
        const failure = classifyUpstreamFailure(err);
        const delayMs = retryDelayMs(err, retries, settings.maxRetryAfterMs);
        // Pause the queue before handing the slot on, so the next queued call waits out the same 429 pause.
        if (failure.rateLimited && !call.abortReason && retries < settings.maxRetries) gate.pause(delayMs);
        call.releaseSlot();
        if (call.abortReason) throw call.abortReason;
        if (failure.rateLimited) metrics.rateLimitedTotal++;
        if (!failure.retryable) throw err;
        if (retries >= settings.maxRetries) {
          throw new LlmUpstreamError({ status: failure.status, attempts: retries + 1, retryAfterMs: delayMs, cause: err });
        }
        if (call.remainingMs() <= delayMs) {
          if (failure.rateLimited) throw new LlmRateLimitedError({ retryAfterMs: Math.max(delayMs, gate.pauseRemainingMs()), cause: err });
          throw new LlmTimeoutError({ timeoutMs: settings.timeoutMs, retryAfterMs: delayMs, cause: err });
        }
        metrics.retriesTotal++;
        // After a 429 the retry waits at the head of the paused queue, holding no slot; otherwise it sleeps alone.
        if (!failure.rateLimited || envFlag("EMERGENCY_MODE")) await sleep(delayMs, call.signal);
        continue;
      }
      if (isStream(result) && !call.abortReason) return call.holdSlotWhileStreaming(result);
      call.releaseSlot();
      return result;
    }
  }

  generateResponseAsync(messages: readonly ChatMessageLike[] | string, opts: GenerateOptions = {}): Promise<unknown> {
    const sdk = this.ownSdk();
    const model = opts.model ?? this.settings.model ?? process.env.LLM_MODEL ?? "gpt-4o-mini";
    const runOptions = { key: opts.key, signal: opts.signal };
    if ((opts.api ?? this.settings.api) === "chat") {
      return this.run((options) => sdk.chat.completions.create({ model, messages: toChatMessages(messages) }, options), runOptions);
    }
    return this.run((options) => sdk.responses.create({ model, input: messages }, options), runOptions);
  }

  async drain(deadlineMs = 30_000): Promise<boolean> {
    this.draining = true;
    this.gate.close(() => new LlmDrainingError());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), deadlineMs);
      unrefTimer(timer);
    });
    const finishedInTime = await Promise.race([this.gate.idle().then(() => true), timedOut]);
    clearTimeout(timer);
    if (!finishedInTime) {
      for (const call of this.running) call.abort(new LlmDrainingError());
    }
    return finishedInTime;
  }

  private ownSdk(): SdkLike {
    if (this.sdk) return this.sdk;
    const given = this.settings.openai as SdkLike | undefined;
    if (given) {
      this.sdk = typeof given.withOptions === "function" ? given.withOptions({ maxRetries: 0 }) : given;
    } else {
      // baseURL, organization and project come from the environment as the SDK reads them.
      this.sdk = new OpenAI({ apiKey: process.env.OPENAI_API_KEY || PLACEHOLDER_API_KEY, maxRetries: 0 }) as unknown as SdkLike;
    }
    return this.sdk;
  }
}

let current: GatedLlmClient | undefined;
let firstOptions: AsyncLlmClientOptions = {};
let warnedAboutSettings = false;
const paths: PathCounts = { new: 0, legacy: 0 };

/**
 * The one client of the process. The first call's settings win; a later call asking for other
 * settings logs one warning. Without an argument it returns the client (made from the environment if none).
 */
export function getAsyncLlmClient(poolSizeOrOptions?: number | AsyncLlmClientOptions): AsyncLlmClient {
  const options = typeof poolSizeOrOptions === "number" ? { poolSize: poolSizeOrOptions } : poolSizeOrOptions;
  if (!current) {
    firstOptions = { ...options };
    current = new GatedLlmClient(resolveSettings(firstOptions), paths);
    return current;
  }
  if (options && !warnedAboutSettings) {
    const asked = options as Record<string, unknown>;
    const first = firstOptions as Record<string, unknown>;
    const differs = Object.keys(asked).some((name) => asked[name] !== undefined && asked[name] !== first[name]);
    if (differs) {
      warnedAboutSettings = true;
      console.warn("[llm-runtime] getAsyncLlmClient was called again with other settings; the first call's settings stay in force.");
    }
  }
  return current;
}

/** The client if one was created, without creating it. */
export function existingAsyncLlmClient(): AsyncLlmClient | undefined {
  return current;
}

/** Calls counted by useNewLlmPath so far, by path. */
export function getPathCounts(): PathCounts {
  return { new: paths.new, legacy: paths.legacy };
}

/**
 * Which path this call takes, read from the environment on every call: false (legacy) when no
 * client was created, DISABLE_POOL or FORCE_LEGACY_LLM is set, or the key is outside the canary.
 */
export function useNewLlmPath(context?: { key?: unknown }): boolean {
  const useNew =
    current !== undefined &&
    !envFlag("DISABLE_POOL") &&
    !envFlag("FORCE_LEGACY_LLM") &&
    inCanary(context?.key, envNumber("LLM_CANARY_PERCENT") ?? current.settings.canaryPercent);
  if (useNew) paths.new++;
  else paths.legacy++;
  return useNew;
}

/**
 * A call with no user key (a service function far from the request) is drawn at random, so the
 * canary still holds its share of calls; one shared bucket would put all of them on one side.
 */
function inCanary(key: unknown, percent: number): boolean {
  const keyless = key === undefined || key === null || key === "";
  return keyless ? Math.random() * 100 < percent : isInCanary(key, percent);
}

/**
 * One SDK call, gated: through the process-wide client when useNewLlmPath says so (the task gets
 * request options to pass on: the deadline's abort signal, no SDK retries), otherwise the task
 * runs as the original call did, without options, so the SDK's own retries and timeout apply.
 */
export function gateLlmCall<T>(
  context: { key?: unknown },
  task: (options?: LlmRequestOptions) => T | PromiseLike<T>,
): Promise<T> {
  if (useNewLlmPath(context)) return getAsyncLlmClient().run(task, { key: context.key });
  try {
    return Promise.resolve(task(undefined));
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * TEST HOOK, not for production code: forget the process-wide client (its queued calls fail
 * with LlmDrainingError) and zero the path counts, so each test starts from nothing.
 */
export function resetAsyncLlmClientForTests(): void {
  current?.gate.close(() => new LlmDrainingError());
  current = undefined;
  firstOptions = {};
  warnedAboutSettings = false;
  paths.new = 0;
  paths.legacy = 0;
}
