/**
 * The process-wide, semaphore-gated async LLM client.
 */
import { DeadlineClock, GatedCall, isStream, sleep, type LlmRequestOptions } from "./call.js";
import { LlmDrainingError, LlmRateLimitedError, LlmTimeoutError, LlmUpstreamError } from "./errors.js";
import { tokenUsage } from "./extract.js";
import { envFlag, isInCanary, llmSwitches, reloadLlmSwitches } from "./flags.js";
import { Gate, unrefTimer } from "./gate.js";
import { FixedLimit, type ConcurrencyLimit } from "./limit.js";
import { mergeRequestOptions, userDeadlineMs, type UserRequestOptions } from "./user-options.js";
import { callLabels, LlmMetrics, OPAQUE_CALL, type CallLabels, type LlmMetricsSnapshot, type PathCounts } from "./metrics.js";
import { gateFor, SharedGate, type SharedLimitSnapshot } from "./shared-gate.js";
import { headroomOf, readRateLimitHeaders, type RateLimitReading } from "./rate-limit-headers.js";
import { classifyUpstreamFailure, retryDelayMs, upstreamHeaders } from "./retry.js";
import { limitFor, resolveSettings, type AsyncLlmClientOptions, type ClientSettings } from "./settings.js";
import { requestKey } from "./request-key.js";

export type { LlmRequestOptions } from "./call.js";
export type { AsyncLlmClientOptions } from "./settings.js";

export interface ChatMessageLike {
  role: string;
  content: unknown;
}

export interface RunOptions {
  /** The user key of the call (logged nowhere; used by useNewLlmPath for the canary). */
  key?: unknown;
  signal?: AbortSignal | undefined;
  /** This call's deadline in place of LLM_TIMEOUT_MS (a timeout the user wrote on the call). */
  timeoutMs?: number | undefined;
}

export interface GenerateOptions {
  signal?: AbortSignal;
  model?: string;
  api?: "responses" | "chat";
  key?: unknown;
  /**
   * The OpenAI-compatible endpoint a migrated wrapper called (its `LLM_BASE_URL`, say), and its
   * key. Unset: the SDK's own default (OPENAI_BASE_URL). With a base URL but no key, no key is sent
   * there: OPENAI_API_KEY is never handed to another host.
   */
  baseURL?: string | undefined;
  apiKey?: string | undefined;
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

/** The slice of the SDK the runtime calls; typed here so any openai v4+ (or Azure) instance fits. */
interface SdkLike {
  responses: { create(body: object, options?: object): SdkPromise };
  chat: { completions: { create(body: object, options?: object): SdkPromise } };
  withOptions?(options: { maxRetries: number }): SdkLike;
}

/** openai-node's APIPromise: `withResponse()` also gives the raw Response, for its headers. */
type SdkPromise = PromiseLike<unknown> & { withResponse?(): PromiseLike<{ data: unknown; response: { headers: unknown } }> };

/** openai-node refuses to start without a key; local OpenAI-compatible servers need none. */
const PLACEHOLDER_API_KEY = "no-api-key-set";

function toChatMessages(messages: readonly ChatMessageLike[] | string): readonly ChatMessageLike[] {
  return typeof messages === "string" ? [{ role: "user", content: messages }] : messages;
}

class GatedLlmClient implements AsyncLlmClient {
  readonly settings: ClientSettings;
  readonly gate: Gate | SharedGate;
  /** This process's own gate (inside a SharedGate when the limit is shared): the limit algorithm sets its capacity. */
  private readonly localGate: Gate;
  readonly metrics: LlmMetrics;
  readonly limit: ConcurrencyLimit;
  /** A fixed pool learns nothing from samples: they are skipped, so its calls cost less. */
  private readonly adaptive: boolean;
  private draining = false;
  private readonly clock = new DeadlineClock();
  private sdk: Promise<SdkLike> | undefined;
  /** SDK instances for the endpoints wrappers called, by base URL and key. */
  private readonly endpointSdks = new Map<string, Promise<SdkLike>>();
  /** Rate-limit headers of answers to generateResponseAsync, by the answer they came with. */
  private readonly readings = new WeakMap<object, RateLimitReading>();
  /** Moving average of tokens per call (from responses' usage), to turn remaining tokens into calls. */
  private tokensPerCall = 0;

  constructor(settings: ClientSettings, paths: PathCounts, limit: ConcurrencyLimit) {
    this.settings = settings;
    this.limit = limit;
    this.adaptive = !(limit instanceof FixedLimit);
    this.localGate = new Gate(limit.current, settings.maxQueue, () => this.metrics.typicalLatencyMs);
    // With LLM_REDIS_URL set, one limit across every replica (shared-limit.ts).
    this.gate = gateFor(this.localGate, settings.poolSize === "auto" ? settings.poolMax : settings.poolSize);
    limit.onChange?.((current) => this.localGate.setCapacity(current));
    this.metrics = new LlmMetrics(
      {
        poolSize: () => this.gate.capacity,
        poolMode: settings.poolSize === "auto" ? "auto" : "fixed",
        maxQueue: settings.maxQueue,
        inFlight: () => this.gate.inFlight,
        queued: () => this.gate.queued,
        pauseRemainingMs: () => this.gate.pauseRemainingMs(),
        emergencyMode: () => envFlag("EMERGENCY_MODE"),
        disabled: () => envFlag("DISABLE_POOL"),
        draining: () => this.draining,
      },
      paths,
    );
    if (this.gate instanceof SharedGate) this.gate.register(this.metrics.registry);
  }

  get poolSize(): number {
    return this.gate.capacity;
  }


  /**
   * Feed one finished attempt to the limit algorithm and hand a changed limit to the gate.
   * Rate-limit headers come from the attempt's own answer: its error, or its result when
   * generateResponseAsync read them.
   */
  private sample(sentAt: number, now: number, inFlightAtSend: number, didDrop: boolean, answer: unknown): void {
    const reading =
      answer === null || typeof answer !== "object"
        ? undefined
        : didDrop || answer instanceof Error
          ? readRateLimitHeaders(upstreamHeaders(answer))
          : this.readings.get(answer);
    const headroom = headroomOf(reading, this.tokensPerCall, inFlightAtSend);
    // Out of tokens until the budget is back: wait that out now rather than meet the 429.
    if (reading && this.tokensPerCall > 0 && reading.remainingTokens < this.tokensPerCall && reading.tokensResetMs > 0) {
      this.gate.pause(Math.min(reading.tokensResetMs, this.settings.maxRetryAfterMs));
    }
    this.limit.onSample(sentAt, now - sentAt, inFlightAtSend, didDrop, headroom);
    const current = this.limit.current;
    if (current !== this.localGate.capacity) this.localGate.setCapacity(current);
  }

  /** Tokens a typical call uses: what remaining-tokens is divided by. */
  private noteUsage(usage: { input: number; output: number } | undefined): void {
    if (usage === undefined) return;
    const total = usage.input + usage.output;
    this.tokensPerCall = this.tokensPerCall === 0 ? total : this.tokensPerCall * 0.9 + total * 0.1;
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

  run<T>(task: (options: LlmRequestOptions) => T | PromiseLike<T>, opts?: RunOptions, labels: CallLabels = OPAQUE_CALL): Promise<T> {
    const call = new GatedCall(opts?.timeoutMs ?? this.settings.timeoutMs, this.metrics, this.clock, labels);
    return new Promise<T>((resolve, reject) => {
      call.start(resolve as (value: unknown) => void, reject, opts?.signal);
      void this.attempt(call, task);
    });
  }

  /** The call's attempts until one answers or the call fails; it settles the call itself and never rejects. */
  private async attempt<T>(call: GatedCall, task: (options: LlmRequestOptions) => T | PromiseLike<T>): Promise<void> {
    try {
      if (this.draining) throw new LlmDrainingError();
      const { settings, metrics, gate } = this;
      for (let retries = 0; ; retries++) {
        if (call.abortReason) throw call.abortReason;
        call.release = retries === 0 ? gate.tryAcquire() : undefined;
        // Sent at once (the usual case): the call's start is the attempt's start, one clock read fewer.
        let sentAt = call.startedAt;
        if (!call.release) {
          const queuedAt = Date.now();
          call.release = await gate.acquire({ ticket: call, front: retries > 0, shed: llmSwitches().emergencyMode });
          sentAt = Date.now();
          if (retries === 0) metrics.recordQueueWait(sentAt - queuedAt);
          // The deadline clock looks every few ms: a slot handed over after the deadline sends nothing.
          if (call.deadlineAt <= sentAt) call.expire();
        }
        const inFlightAtSend = gate.inFlight;
        let result: T;
        let sent = false;
        try {
          // The deadline or the caller may have fired while the slot was being handed over.
          if (call.abortReason) throw call.abortReason;
          sent = true;
          result = await task(call.requestOptions(sentAt));
        } catch (err) {
          const now = Date.now();
          const failure = classifyUpstreamFailure(err);
          const delayMs = retryDelayMs(err, retries, settings.maxRetryAfterMs);
          // A call stopped by its caller or a drain says nothing about the upstream; one stopped by its deadline does.
          const stopped: unknown = call.abortReason;
          if (sent) metrics.recordAttempt(call.labels, (now - sentAt) / 1000, attemptErrorType(failure.status, failure.retryable, stopped));
          if (this.adaptive && (stopped === undefined || stopped instanceof LlmTimeoutError)) {
            this.sample(sentAt, now, inFlightAtSend, failure.retryable || stopped !== undefined, err);
          }
          // Pause the queue before handing the slot on, so the next queued call waits out the same 429 pause.
          if (failure.rateLimited && !call.abortReason && retries < settings.maxRetries) this.gate.pause(delayMs);
          call.releaseSlot();
          if (call.abortReason) throw call.abortReason;
          if (failure.rateLimited) metrics.rateLimitedTotal++;
          if (!failure.retryable) throw err;
          if (retries >= settings.maxRetries) {
            throw new LlmUpstreamError({ status: failure.status, attempts: retries + 1, retryAfterMs: delayMs, cause: err });
          }
          if (call.remainingMs(now) <= delayMs) {
            if (failure.rateLimited) throw new LlmRateLimitedError({ retryAfterMs: Math.max(delayMs, gate.pauseRemainingMs()), cause: err });
            throw new LlmTimeoutError({ timeoutMs: settings.timeoutMs, retryAfterMs: delayMs, cause: err });
          }
          metrics.retriesTotal++;
          // After a 429 the retry waits at the head of the paused queue, holding no slot; otherwise it sleeps alone.
          if (!failure.rateLimited || llmSwitches().emergencyMode) await sleep(delayMs, call.signal);
          continue;
        }
        const now = Date.now();
        metrics.recordAttempt(call.labels, (now - sentAt) / 1000, "");
        const usage = tokenUsage(result);
        if (usage) metrics.recordTokens(call.labels, usage.input, usage.output);
        if (this.adaptive) {
          this.noteUsage(usage);
          this.sample(sentAt, now, inFlightAtSend, false, result);
        }
        if (isStream(result) && !call.abortReason) {
          call.succeed(call.holdSlotWhileStreaming(result));
          return;
        }
        call.releaseSlot();
        call.settle(undefined, now);
        call.succeed(result);
        return;
      }
    } catch (err) {
      call.fail(err);
    }
  }

  generateResponseAsync(messages: readonly ChatMessageLike[] | string, opts: GenerateOptions = {}): Promise<unknown> {
    // Started before queueing, so that loading the SDK overlaps the wait for a slot.
    const sdk = opts.baseURL === undefined && opts.apiKey === undefined ? this.ownSdk() : this.endpointSdk(opts.baseURL, opts.apiKey);
    const model = opts.model ?? this.settings.model ?? process.env["LLM_MODEL"] ?? "gpt-4o-mini";
    const runOptions = { key: opts.key, signal: opts.signal };
    const labels = this.labelsFor(model);
    if ((opts.api ?? this.settings.api) === "chat") {
      return this.run(async (options) => this.withHeaders((await sdk).chat.completions.create({ model, messages: toChatMessages(messages) }, options)), runOptions, labels);
    }
    return this.run(async (options) => this.withHeaders((await sdk).responses.create({ model, input: messages }, options)), runOptions, labels);
  }

  private readonly labelsByModel = new Map<string, CallLabels>();

  /** OpenTelemetry's names for a call of the runtime's own SDK instance: chat (Responses or chat completions), its provider, the model. */
  private labelsFor(model: string): CallLabels {
    let labels = this.labelsByModel.get(model);
    if (!labels) {
      const azure = (this.settings.openai as { constructor?: { name?: string } } | undefined)?.constructor?.name === "AzureOpenAI";
      labels = callLabels("chat", azure ? "azure.ai.openai" : "openai", model);
      this.labelsByModel.set(model, labels);
    }
    return labels;
  }

  /** The answer, with its rate-limit headers kept for the limit algorithm (an adaptive pool only). */
  private withHeaders(request: SdkPromise): PromiseLike<unknown> {
    if (!this.adaptive || typeof request.withResponse !== "function") return request;
    return request.withResponse().then(({ data, response }) => {
      const reading = readRateLimitHeaders(response.headers as Parameters<typeof readRateLimitHeaders>[0]);
      if (reading && data !== null && typeof data === "object") this.readings.set(data, reading);
      return data;
    });
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
      for (const call of this.clock.running()) call.abort(new LlmDrainingError());
    }
    return finishedInTime;
  }

  private ownSdk(): Promise<SdkLike> {
    this.sdk ??= this.makeSdk();
    // A failed load is seen by the call that awaits it, not as an unhandled rejection here.
    this.sdk.catch(() => undefined);
    return this.sdk;
  }

  private endpointSdk(baseURL: string | undefined, apiKey: string | undefined): Promise<SdkLike> {
    const id = `${baseURL ?? ""}\u0000${apiKey ?? ""}`;
    let sdk = this.endpointSdks.get(id);
    if (!sdk) {
      // No base URL: the SDK's default one (OPENAI_BASE_URL), as the wrapper's `new OpenAI({ apiKey })`.
      sdk = this.makeSdk({ ...(baseURL === undefined ? {} : { baseURL }), apiKey: apiKey || PLACEHOLDER_API_KEY });
      sdk.catch(() => undefined);
      this.endpointSdks.set(id, sdk);
    }
    return sdk;
  }

  private async makeSdk(endpoint?: { baseURL?: string; apiKey: string }): Promise<SdkLike> {
    const given = this.settings.openai as SdkLike | undefined;
    if (given && !endpoint) return typeof given.withOptions === "function" ? given.withOptions({ maxRetries: 0 }) : given;
    // Loaded on first use, and by a name TypeScript does not resolve: a project that only gates its
    // own SDK calls (Anthropic, openai v3) needs no openai v4+ to install or compile the runtime.
    const sdkModule = "openai";
    const { OpenAI } = (await import(sdkModule)) as { OpenAI: new (options: object) => unknown };
    // baseURL, organization and project come from the environment as the SDK reads them.
    return new OpenAI(endpoint ? { ...endpoint, maxRetries: 0 } : { apiKey: process.env["OPENAI_API_KEY"] || PLACEHOLDER_API_KEY, maxRetries: 0 }) as SdkLike;
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
    const settings = resolveSettings(firstOptions);
    current = new GatedLlmClient(settings, paths, firstOptions.limit ?? limitFor(settings));
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
 * Which path this call takes: false (legacy) when no client was created, DISABLE_POOL or
 * FORCE_LEGACY_LLM is set, or the key is outside the canary. The switches come from the
 * environment as read at most SWITCH_REFRESH_MS ago (flags.ts): flipping one needs no restart.
 */
export function useNewLlmPath(context?: { key?: unknown }): boolean {
  let useNew = false;
  if (current !== undefined) {
    const switches = llmSwitches();
    useNew =
      !switches.disablePool &&
      !switches.forceLegacy &&
      inCanary(requestKey(context?.key), switches.canaryPercent ?? current.settings.canaryPercent);
  }
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
export function gateLlmCall<T, U extends UserRequestOptions = LlmRequestOptions>(
  context: { key?: unknown; options?: U },
  task: (options?: LlmRequestOptions | U) => T | PromiseLike<T>,
): Promise<T> {
  // `options`: what the user passed the SDK call; kept on both paths (see user-options.ts).
  const user = context.options;
  if (useNewLlmPath(context)) return runLlmCall(context, task);
  try {
    return Promise.resolve(task(user));
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * gateLlmCall's new path alone, for a call whose path is already chosen (the new branch of
 * `useNewLlmPath(…) ? … : queue.add(() => call)`): through the gate, with the options the user
 * wrote kept as gateLlmCall keeps them (see user-options.ts).
 */
export function runLlmCall<T, U extends UserRequestOptions = LlmRequestOptions>(
  context: { key?: unknown; options?: U },
  task: (options: LlmRequestOptions | U) => T | PromiseLike<T>,
): Promise<T> {
  const user = context.options;
  const options = { key: context.key, signal: undefined, timeoutMs: userDeadlineMs(user) };
  return getAsyncLlmClient().run(user ? (gate) => task(mergeRequestOptions(user, gate)) : task, options);
}

/**
 * TEST HOOK, not for production code: forget the process-wide client (its queued calls fail
 * with LlmDrainingError) and zero the path counts, so each test starts from nothing.
 */
export function resetAsyncLlmClientForTests(): void {
  current?.gate.close(() => new LlmDrainingError());
  current = undefined;
  reloadLlmSwitches();
  firstOptions = {};
  warnedAboutSettings = false;
  paths.new = 0;
  paths.legacy = 0;
}

/** OpenTelemetry's `error.type` of a failed attempt: the HTTP status, else what stopped it. */
function attemptErrorType(status: number | undefined, retryable: boolean, stopped: unknown): string {
  if (stopped instanceof LlmTimeoutError) return "timeout";
  if (stopped !== undefined) return "aborted";
  if (status !== undefined) return String(status);
  return retryable ? "connection" : "_OTHER";
}
