/**
 * One LLM limit for every replica: with LLM_REDIS_URL set, a call needs a slot of the global pool
 * (LLM_GLOBAL_POOL_SIZE) held in Redis, on top of its place in this process's own gate.
 *
 * Slots are leases: a holder renews them every TTL/3, so the slots of a killed replica come back
 * within one TTL of its last renewal (< 2 × TTL). Waiting calls of every replica stand in one
 * global FIFO queue in Redis. When Redis cannot be reached the process runs on a local pool of
 * `fallbackPoolSize()` and says so once in the log and in its metrics; no call fails for it.
 * The protocol (shared-limit-lua.ts) is the Python runtime's too.
 */
import { randomBytes } from "node:crypto";
import { unrefTimer, type QueueTicket, type Release } from "./gate.js";
import { ACQUIRE_LUA, PAUSE_LUA, RELEASE_LUA, RENEW_LUA, redisKeys } from "./shared-limit-lua.js";
import type { SharedLimitSettings } from "./shared-limit-settings.js";

export type { SharedLimitSettings } from "./shared-limit-settings.js";


/** The few ioredis calls used, typed here so the runtime compiles where ioredis is not installed. */
interface RedisConnection {
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  duplicate(): RedisConnection;
  disconnect(): void;
}

interface Waiter {
  id: string;
  resolve: (release: Release) => void;
  reject: (err: unknown) => void;
}

type Mode = "shared" | "fallback" | "settling";

const TICK_MS = 100;
/** A waiting call's place in the global queue lives this long unless its replica asks again (it does every tick or sooner). */
const TICKET_MS = 500;

export class SharedLimit {
  /** Calls of this process holding a slot (a lease, or a local slot while Redis is away). */
  readonly held = new Set<string>();
  /** Calls holding a slot that Redis granted (the others were let in by the local pool). */
  private readonly granted = new Set<string>();
  /** Times this process fell back to its local pool. */
  fallbacks = 0;
  /** Live replicas last seen in Redis (0 until seen). */
  replicas = 0;
  mode: Mode = "fallback";
  onPause: (ms: number) => void = () => {};
  readonly settings: SharedLimitSettings;
  private readonly log: (message: string) => void;
  private readonly waiters: Waiter[] = [];
  private readonly replicaId = `${randomBytes(4).toString("hex")}-${process.pid}`;
  private readonly keys: ReturnType<typeof redisKeys>;
  private nextId = 0;
  private redis: RedisConnection | undefined;
  private subscriber: RedisConnection | undefined;
  private everConnected = false;
  private settledAt = 0;
  /** Redis's clock when this replica came back to it (0 when not settling). */
  private backAt = 0;
  private lostAt = 0;
  /** Moving average of how long a call holds its slot, in ms. */
  private holdMs = 0;
  private lastRenew = 0;
  private pumping = false;
  private pumpAgain = false;
  private closedWith: (() => Error) | undefined;
  private stopped = false;
  private readonly ticker: ReturnType<typeof setInterval>;

  constructor(settings: SharedLimitSettings, log: (message: string) => void = (m) => console.warn(m)) {
    this.settings = settings;
    this.log = log;
    this.keys = redisKeys(settings.prefix);
    this.ticker = setInterval(() => this.tick(), Math.min(TICK_MS, settings.leaseMs / 4));
    unrefTimer(this.ticker);
    void this.connect();
  }

  get waiting(): number {
    return this.waiters.length;
  }

  get redisUp(): boolean {
    return this.mode === "shared";
  }

  /** The local pool while Redis is away: the option, else the global limit ÷ live replicas last seen (at least 1). */
  fallbackPoolSize(): number {
    if (this.settings.fallbackPoolSize !== undefined) return this.settings.fallbackPoolSize;
    return this.replicas > 0 ? Math.max(1, Math.floor(this.settings.limit / this.replicas)) : 1;
  }

  /** Wait for a global slot for a call that holds `localRelease`; resolves with a release for both. */
  hold(ticket: QueueTicket, localRelease: Release): Promise<Release> {
    if (this.closedWith) {
      localRelease();
      return Promise.reject(this.closedWith());
    }
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        id: `${this.replicaId}:${this.nextId++}`,
        resolve: (release) => {
          ticket.leave = undefined;
          resolve(() => {
            release();
            localRelease();
          });
        },
        reject: (err) => {
          ticket.leave = undefined;
          localRelease();
          reject(err);
        },
      };
      this.waiters.push(waiter);
      ticket.leave = (reason: unknown) => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        this.forget([waiter.id]);
        waiter.reject(reason);
      };
      this.pump();
    });
  }

  /** After a 429 here: every replica pauses for `ms`. */
  pause(ms: number): void {
    if (this.mode !== "shared" || !this.redis) return;
    this.redis.eval(PAUSE_LUA, 1, this.keys.pause, Math.ceil(ms), this.keys.channel).catch((err) => this.lost(err));
  }

  /** Fail every waiting call with `makeError()` and refuse new ones; let go of Redis once nothing is held. */
  close(makeError: () => Error): void {
    this.closedWith = makeError;
    for (const waiter of this.waiters.splice(0)) {
      this.forget([waiter.id]);
      waiter.reject(makeError());
    }
    this.stopIfIdle();
  }

  private stopIfIdle(): void {
    if (!this.closedWith || this.held.size > 0 || this.stopped) return;
    this.stopped = true;
    clearInterval(this.ticker);
    this.redis?.disconnect();
    this.subscriber?.disconnect();
  }

  private grant(waiter: Waiter, byRedis = false): void {
    this.held.add(waiter.id);
    if (byRedis) this.granted.add(waiter.id);
    const grantedAt = Date.now();
    let released = false;
    waiter.resolve(() => {
      if (released) return;
      released = true;
      const heldMs = Date.now() - grantedAt;
      this.holdMs = this.holdMs === 0 ? heldMs : this.holdMs * 0.9 + heldMs * 0.1;
      this.held.delete(waiter.id);
      this.granted.delete(waiter.id);
      this.forget([waiter.id]);
      if (this.mode !== "shared") this.pump();
      this.stopIfIdle();
    });
  }

  /**
   * Redis granted `id` (to an ACQUIRE, or straight from a release): hand the slot to its waiter.
   * False when nobody here waits for it any more and it is not held: the lease is to be dropped.
   */
  private take(id: string): boolean {
    if (this.held.has(id)) return true; // reported twice: by a release's message and an ACQUIRE
    const index = this.waiters.findIndex((waiter) => waiter.id === id);
    if (index < 0) return false; // it left while the slot was being granted
    this.grant(this.waiters.splice(index, 1)[0]!, true);
    return true;
  }

  /** Drop ids from Redis (a released lease or a waiter that left), and wake the other replicas. */
  private forget(ids: string[]): void {
    if (this.mode === "fallback" || !this.redis) return;
    const { leases, queue, tickets, pause, channel } = this.keys;
    this.redis.eval(RELEASE_LUA, 4, leases, queue, tickets, pause, channel, this.settings.limit, this.settings.leaseMs, ...ids).catch((err) =>
      this.lost(err),
    );
  }

  /** Hand out what can be handed out: through Redis when it is up, else from the local pool. */
  private pump(): void {
    if (this.waiters.length === 0) return;
    if (this.mode === "fallback") {
      if (!this.localPoolOpen()) return;
      while (this.waiters.length > 0 && this.held.size < this.fallbackPoolSize()) this.grant(this.waiters.shift()!);
      return;
    }
    // Settling: slots from Redis, but no more than the local pool, while other replicas may still run unregistered calls.
    const room = this.mode === "settling" ? this.fallbackPoolSize() - this.held.size : this.waiters.length;
    if (room <= 0) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    const { leases, queue, tickets, seq, pause } = this.keys;
    const ids = this.waiters.slice(0, room).map((waiter) => waiter.id);
    this.redis!.eval(ACQUIRE_LUA, 5, leases, queue, tickets, seq, pause, this.settings.limit, this.settings.leaseMs, TICKET_MS, ...ids)
      .then((reply) => {
        const [pausedMs, ...granted] = reply as [number, ...string[]];
        const late = granted.filter((id) => !this.take(id));
        if (late.length > 0) this.forget(late);
        if (pausedMs > 0) unrefTimer(setTimeout(() => this.pump(), pausedMs));
      }, (err) => this.lost(err))
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.pump();
        }
      });
  }

  /**
   * Right after Redis is lost, other replicas may still run more than their share of calls that
   * Redis let in. The local pool opens once this replica's own such calls have ended and one and a
   * half typical calls have passed (by then the other replicas' calls have ended too), or after one
   * lease TTL at the latest.
   */
  private localPoolOpen(): boolean {
    const since = Date.now() - this.lostAt;
    return (this.granted.size === 0 && since >= this.holdMs * 1.5) || since >= this.settings.leaseMs;
  }

  private tick(): void {
    // Renew every TTL/3; while Redis is away the same call checks whether it is back, and
    // while settling it watches the other replicas come back.
    const every = this.mode === "shared" ? this.settings.leaseMs / 3 : this.mode === "settling" ? TICK_MS : 250;
    if (Date.now() - this.lastRenew >= every) this.renew();
    this.pump();
  }

  private renew(): void {
    if (!this.redis) return;
    this.lastRenew = Date.now();
    const { leases, replicas } = this.keys;
    this.redis.eval(RENEW_LUA, 2, leases, replicas, this.settings.leaseMs, this.replicaId, this.backAt, ...this.held).then(
      (reply) => this.renewed(...(reply as [number, number, number])),
      (err) => this.lost(err),
    );
  }

  /**
   * After Redis was away, this replica has registered its running calls again; until every
   * replica it knew has renewed since (and so registered its own), or settleMs has passed (one may
   * have died meanwhile), it takes slots from Redis but never more than its local pool.
   */
  private renewed(alive: number, renewedSince: number, now: number): void {
    if (this.mode === "shared" || !this.everConnected) this.replicas = alive;
    if (this.mode === "fallback") {
      if (this.everConnected) this.settle(now);
      else this.mode = "shared";
      this.everConnected = true;
    } else if (this.mode === "settling" && (renewedSince >= this.replicas || Date.now() >= this.settledAt)) {
      this.mode = "shared";
      this.backAt = 0;
      this.log(`[llm-runtime] Redis is back: the LLM limit is shared again (${this.settings.limit} slots across replicas).`);
    }
    this.pump();
  }

  private settle(now: number): void {
    this.mode = "settling";
    this.backAt = now;
    this.settledAt = Date.now() + this.settings.settleMs;
  }

  /** Redis failed a command: run on the local pool until it answers again. */
  private lost(err: unknown): void {
    if (this.mode === "fallback" || this.stopped) return;
    this.mode = "fallback";
    this.lostAt = Date.now();
    this.fallbacks++;
    const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
    this.log(`[llm-runtime] Redis unreachable (${reason}): using a local pool of ${this.fallbackPoolSize()} until it is back.`);
    this.pump();
  }

  private async connect(): Promise<void> {
    let Redis: new (url: string, options: object) => RedisConnection;
    try {
      // A variable, so projects without ioredis still compile; loaded only when LLM_REDIS_URL is set.
      const name = "ioredis";
      const loaded = (await import(name)) as { default?: unknown; Redis?: unknown };
      Redis = (loaded.Redis ?? loaded.default) as typeof Redis;
    } catch {
      this.fallbacks++;
      this.log(`[llm-runtime] LLM_REDIS_URL is set but the ioredis package is not installed (npm install ioredis): using a local pool of ${this.fallbackPoolSize()}.`);
      return;
    }
    if (this.stopped) return;
    // No offline queue and a command timeout: with Redis away a command fails at once and the call goes local.
    const options = { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 1000, connectTimeout: 1000, retryStrategy: (n: number) => Math.min(50 * n, 500) };
    this.redis = new Redis(this.settings.url, options);
    this.subscriber = new Redis(this.settings.url, { ...options, enableOfflineQueue: true });
    for (const connection of [this.redis, this.subscriber]) connection.on("error", () => {}); // reported through lost()
    this.subscriber.on("message", (_channel: string, message: string) => {
      if (message === "free") this.pump();
      else if (message.startsWith("grant:")) {
        const id = message.slice("grant:".length);
        if (id.startsWith(`${this.replicaId}:`) && !this.take(id)) this.forget([id]);
      } else if (message.startsWith("pause:")) this.onPause(Number(message.slice("pause:".length)));
    });
    this.subscriber.subscribe(this.keys.channel).catch(() => {});
    // Registers this replica as soon as Redis answers, at start and after every reconnection.
    this.redis.on("ready", () => this.renew());
  }
}
