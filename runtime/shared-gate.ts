/**
 * The process's gate with the shared limit behind it: a call first takes its place in the local
 * gate (LLM_POOL_SIZE, its FIFO queue, its pause), then a slot of the global pool. The client
 * uses it exactly as it uses the local Gate.
 */
import { Gauge, Counter, type Registry } from "prom-client";
import { Gate, type AcquireOptions, type Release } from "./gate.js";
import { SharedLimit } from "./shared-limit.js";
import { sharedLimitFromEnv } from "./shared-limit-settings.js";

export interface SharedLimitSnapshot {
  /** Slots across every replica. */
  limit: number;
  /** Calls of this process holding a global slot. */
  inFlight: number;
  /** Calls of this process waiting for a global slot. */
  waiting: number;
  redis: "up" | "down";
  /** The local pool used while Redis is away. */
  fallbackPoolSize: number;
  fallbacks: number;
  replicas: number;
}

export class SharedGate {
  readonly local: Gate;
  readonly shared: SharedLimit;

  constructor(local: Gate, shared: SharedLimit) {
    this.local = local;
    this.shared = shared;
    // Another replica's 429 pauses this one's queue too.
    shared.onPause = (ms) => local.pause(ms);
  }

  get capacity(): number {
    return this.local.capacity;
  }

  get maxQueue(): number {
    return this.local.maxQueue;
  }

  /** Calls holding a slot of the global pool. */
  get inFlight(): number {
    return this.shared.held.size;
  }

  /** Calls waiting, here or for a global slot. */
  get queued(): number {
    return this.local.queued + this.shared.waiting;
  }

  /** Never synchronous: a global slot takes a Redis round trip. */
  tryAcquire(): Release | undefined {
    return undefined;
  }

  async acquire(options: AcquireOptions): Promise<Release> {
    const release = await this.local.acquire(options);
    return this.shared.hold(options.ticket, release);
  }

  pause(ms: number): void {
    this.local.pause(ms);
    this.shared.pause(ms);
  }

  pauseRemainingMs(): number {
    return this.local.pauseRemainingMs();
  }

  close(makeError: () => Error): void {
    this.local.close(makeError);
    this.shared.close(makeError);
  }

  idle(): Promise<void> {
    return this.local.idle();
  }

  snapshot(): SharedLimitSnapshot {
    const shared = this.shared;
    return {
      limit: shared.settings.limit,
      inFlight: shared.held.size,
      waiting: shared.waiting,
      redis: shared.redisUp ? "up" : "down",
      fallbackPoolSize: shared.fallbackPoolSize(),
      fallbacks: shared.fallbacks,
      replicas: shared.replicas,
    };
  }

  /** The shared limit's gauges, on the runtime's own registry. */
  register(registry: Registry): void {
    const registers = [registry];
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, registers, collect() { this.set(read()); } });
    gauge("llm_shared_pool_size", "Concurrent upstream calls allowed across every replica (LLM_GLOBAL_POOL_SIZE)", () => this.shared.settings.limit);
    gauge("llm_shared_in_flight", "Calls of this replica holding a slot of the shared pool", () => this.shared.held.size);
    gauge("llm_shared_waiting", "Calls of this replica waiting for a slot of the shared pool", () => this.shared.waiting);
    gauge("llm_shared_redis_up", "1 while the shared limit is kept in Redis, 0 while this replica runs on its local fallback pool", () => (this.shared.redisUp ? 1 : 0));
    gauge("llm_shared_fallback_pool_size", "Local pool used while Redis is unreachable", () => this.shared.fallbackPoolSize());
    gauge("llm_shared_replicas", "Live replicas last seen in Redis", () => this.shared.replicas);
    const shared = this.shared;
    new Counter({
      name: "llm_shared_fallbacks_total",
      help: "Times this replica fell back to its local pool because Redis was unreachable",
      registers,
      collect() {
        this.reset();
        this.inc(shared.fallbacks);
      },
    });
  }
}

/**
 * The local gate, or the local gate with the shared limit behind it when LLM_REDIS_URL is set.
 * `poolSize` is the global pool when LLM_GLOBAL_POOL_SIZE is unset (an adaptive pool's maximum).
 */
export function gateFor(local: Gate, poolSize: number): Gate | SharedGate {
  const settings = sharedLimitFromEnv(poolSize);
  return settings ? new SharedGate(local, new SharedLimit(settings)) : local;
}
