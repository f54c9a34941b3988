/**
 * Counters, a sliding window for RPS and latency percentiles, and the Prometheus exposition
 * (prom-client on the runtime's own Registry, so it never mixes with the user's metrics).
 * Only numbers: never prompts, answers or keys.
 */
import { Counter, Gauge, Registry } from "prom-client";
import { LabelledHistogram, type HistogramSeries } from "./histogram.js";
import { round, SlidingWindow, WINDOW_SECONDS } from "./window.js";

/** OpenTelemetry GenAI's advice for gen_ai.client.operation.duration: 10 ms doubling to ~82 s. */
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
/** OpenTelemetry GenAI's advice for gen_ai.client.token.usage: 1 quadrupling to 67,108,864. */
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

/**
 * What a call is, as OpenTelemetry's GenAI attributes name it: `gen_ai.operation.name`,
 * `gen_ai.provider.name`, `gen_ai.request.model`. A task given to run() is opaque: `_OTHER`
 * (OpenTelemetry's word for a value it cannot tell) and no model.
 */
export interface CallLabels {
  readonly key: string;
  readonly operation: string;
  readonly provider: string;
  readonly model: string;
}

export function callLabels(operation: string, provider: string, model: string): CallLabels {
  return { key: `${operation}\u0000${provider}\u0000${model}`, operation, provider, model };
}

export const OPAQUE_CALL = callLabels("_OTHER", "_OTHER", "");

export type ErrorType =
  | "queue_full"
  | "timeout"
  | "rate_limited"
  | "overloaded"
  | "draining"
  | "aborted"
  | "upstream"
  | "other";

export interface PathCounts {
  new: number;
  legacy: number;
}

export interface LlmMetricsSnapshot {
  /** Upstream calls allowed at once now: LLM_POOL_SIZE, or where the adaptive limit stands. */
  poolSize: number;
  /** "auto" when the limit adapts to the upstream (LLM_POOL_SIZE=auto), else "fixed". */
  poolMode: "fixed" | "auto";
  inFlight: number;
  queued: number;
  maxQueue: number;
  /** Calls finished through the gate (success or error) since start. */
  requestsTotal: number;
  errorsTotal: number;
  /** Errors / finished calls over the last `windowSeconds`. */
  errorRate: number;
  /** Finished calls per second over the last `windowSeconds`. */
  rps: number;
  /** Whole-call latency (queue + attempts + backoff) over the last `windowSeconds`. */
  latencyMs: { avg: number; p50: number; p95: number; p99: number };
  /** Upstream 429 answers seen (every attempt). */
  rateLimitedTotal: number;
  retriesTotal: number;
  errorsByType: Record<ErrorType, number>;
  paths: PathCounts;
  /** inFlight / poolSize right now. */
  utilisation: number;
  windowSeconds: number;
  /** Milliseconds until the pause after an upstream 429 ends; 0 when not paused. */
  pauseRemainingMs: number;
  emergencyMode: boolean;
  draining: boolean;
}

export interface GateState {
  /** The current limit: fixed, or moved by the limit algorithm. */
  poolSize: () => number;
  poolMode: "fixed" | "auto";
  maxQueue: number;
  inFlight: () => number;
  queued: () => number;
  pauseRemainingMs: () => number;
  emergencyMode: () => boolean;
  /** DISABLE_POOL: calls take the legacy path while the client stays. */
  disabled: () => boolean;
  draining: () => boolean;
}

export class LlmMetrics {
  readonly registry = new Registry();
  requestsTotal = 0;
  errorsTotal = 0;
  rateLimitedTotal = 0;
  retriesTotal = 0;
  /** Moving average of call latency, a cheap hint for Retry-After when a call is turned away. */
  typicalLatencyMs = 0;
  readonly errorsByType: Record<ErrorType, number> = {
    queue_full: 0,
    timeout: 0,
    rate_limited: 0,
    overloaded: 0,
    draining: 0,
    aborted: 0,
    upstream: 0,
    other: 0,
  };
  private readonly window = new SlidingWindow();
  private readonly duration: LabelledHistogram;
  private readonly queueWait: HistogramSeries;
  private readonly tokens: LabelledHistogram;
  private readonly gate: GateState;
  private readonly paths: PathCounts;

  constructor(gate: GateState, paths: PathCounts) {
    this.gate = gate;
    this.paths = paths;
    const registers = [this.registry];
    // Names follow OpenTelemetry's GenAI conventions where one exists, `llm_` otherwise.
    this.duration = new LabelledHistogram({
      name: "gen_ai_client_operation_duration_seconds",
      help: "Duration of upstream LLM calls, one per attempt; queue wait and backoff are not in it",
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.queueWait = new LabelledHistogram({
      name: "llm_gate_queue_wait_seconds",
      help: "Time calls that found the pool busy waited for a slot",
      buckets: DURATION_BUCKETS,
      registers,
    }).add("", {});
    this.tokens = new LabelledHistogram({
      name: "gen_ai_client_token_usage",
      help: "Tokens per upstream call, from the answers' usage, by gen_ai_token_type (input, output)",
      buckets: TOKEN_BUCKETS,
      registers,
    });
    const metrics = this;
    new Gauge({
      name: "llm_gate_pool_size",
      help: "Concurrent upstream calls allowed now: LLM_POOL_SIZE, or the adaptive limit's current value",
      registers,
      collect() {
        this.set(gate.poolSize());
      },
    });
    new Gauge({
      name: "llm_gate_enabled",
      help: "1 while calls go through the gate, 0 in legacy mode (no client, DISABLE_POOL)",
      registers,
      collect() {
        this.set(gate.disabled() ? 0 : 1);
      },
    });
    new Gauge({
      name: "llm_gate_emergency_mode",
      help: "1 while EMERGENCY_MODE sheds calls beyond the pool instead of queueing them",
      registers,
      collect() {
        this.set(gate.emergencyMode() ? 1 : 0);
      },
    });
    new Gauge({
      name: "llm_gate_in_flight",
      help: "Upstream calls holding a pool slot",
      registers,
      collect() {
        this.set(gate.inFlight());
      },
    });
    new Gauge({
      name: "llm_gate_pause_remaining_seconds",
      help: "Time until the pause after an upstream 429 ends (0: not paused)",
      registers,
      collect() {
        this.set(gate.pauseRemainingMs() / 1000);
      },
    });
    new Gauge({
      name: "llm_gate_queued",
      help: "Calls waiting for a pool slot",
      registers,
      collect() {
        this.set(gate.queued());
      },
    });
    // Counters mirror the plain totals at scrape time, so a call pays for one increment, not two.
    new Counter({
      name: "llm_requests_total",
      help: "Gated LLM calls finished, by outcome",
      labelNames: ["outcome"],
      registers,
      collect() {
        this.reset();
        this.inc({ outcome: "ok" }, metrics.requestsTotal - metrics.errorsTotal);
        this.inc({ outcome: "error" }, metrics.errorsTotal);
      },
    });
    new Counter({
      name: "llm_errors_total",
      help: "Gated LLM calls that failed, by error type",
      labelNames: ["error_type"],
      registers,
      collect() {
        this.reset();
        for (const [type, count] of Object.entries(metrics.errorsByType)) this.inc({ error_type: type }, count);
      },
    });
    new Counter({
      name: "llm_rate_limited_total",
      help: "Upstream 429 answers",
      registers,
      collect() {
        this.reset();
        this.inc(metrics.rateLimitedTotal);
      },
    });
    new Counter({
      name: "llm_retries_total",
      help: "Upstream attempts that were retries",
      registers,
      collect() {
        this.reset();
        this.inc(metrics.retriesTotal);
      },
    });
    new Counter({
      name: "llm_path_total",
      help: "Call sites that took the new (gated) or the legacy path",
      labelNames: ["path"],
      registers,
      collect() {
        this.reset();
        this.inc({ path: "new" }, paths.new);
        this.inc({ path: "legacy" }, paths.legacy);
      },
    });
  }

  recordQueueWait(ms: number): void {
    this.queueWait.observe(ms / 1000);
  }

  /** One upstream attempt: its duration (seconds) and, when it failed, OpenTelemetry's `error.type`. */
  recordAttempt(call: CallLabels, seconds: number, errorType: string): void {
    const key = errorType === "" ? call.key : `${call.key}\u0000${errorType}`;
    (this.duration.find(key) ?? this.duration.add(key, { ...otelLabels(call), error_type: errorType })).observe(seconds);
  }

  /** Tokens an answer says it used. */
  recordTokens(call: CallLabels, input: number, output: number): void {
    const inputKey = `${call.key}\u0000input`;
    const outputKey = `${call.key}\u0000output`;
    (this.tokens.find(inputKey) ?? this.tokens.add(inputKey, { ...otelLabels(call), gen_ai_token_type: "input" })).observe(input);
    (this.tokens.find(outputKey) ?? this.tokens.add(outputKey, { ...otelLabels(call), gen_ai_token_type: "output" })).observe(output);
  }

  recordCall(latencyMs: number, errorType: ErrorType | undefined, now: number): void {
    this.requestsTotal++;
    if (errorType) {
      this.errorsTotal++;
      this.errorsByType[errorType]++;
    }
    this.typicalLatencyMs = this.requestsTotal === 1 ? latencyMs : this.typicalLatencyMs * 0.9 + latencyMs * 0.1;
    this.window.record(latencyMs, errorType !== undefined, now);
  }

  snapshot(): LlmMetricsSnapshot {
    const { rps, errorRate, latencyMs } = this.window.read(Date.now());
    const inFlight = this.gate.inFlight();
    const poolSize = this.gate.poolSize();
    return {
      poolSize,
      poolMode: this.gate.poolMode,
      inFlight,
      queued: this.gate.queued(),
      maxQueue: this.gate.maxQueue,
      requestsTotal: this.requestsTotal,
      errorsTotal: this.errorsTotal,
      errorRate,
      rps,
      latencyMs,
      rateLimitedTotal: this.rateLimitedTotal,
      retriesTotal: this.retriesTotal,
      errorsByType: { ...this.errorsByType },
      paths: { new: this.paths.new, legacy: this.paths.legacy },
      utilisation: poolSize === 0 ? 0 : round(inFlight / poolSize),
      windowSeconds: WINDOW_SECONDS,
      pauseRemainingMs: Math.ceil(this.gate.pauseRemainingMs()),
      emergencyMode: this.gate.emergencyMode(),
      draining: this.gate.draining(),
    };
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function otelLabels(call: CallLabels): Record<string, string> {
  return { gen_ai_operation_name: call.operation, gen_ai_provider_name: call.provider, gen_ai_request_model: call.model };
}
