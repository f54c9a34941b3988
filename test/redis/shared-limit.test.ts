// The shared limit against a real redis-server: several "replicas" (one SharedLimit each) in this process.
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Gate } from "../../runtime/gate.js";
import { SharedGate } from "../../runtime/shared-gate.js";
import { SharedLimit, type SharedLimitSettings } from "../../runtime/shared-limit.js";
import * as lua from "../../runtime/shared-limit-lua.js";
import { until } from "../runtime/support.js";
import { RedisServer } from "./redis-server.js";

let server: RedisServer;
let inspect: Redis;
const replicas: SharedGate[] = [];
let prefixCount = 0;

beforeAll(async () => {
  server = await RedisServer.start();
  inspect = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
  inspect.on("error", () => {});
});
afterAll(async () => {
  inspect.disconnect();
  await server.close();
});
afterEach(() => {
  for (const replica of replicas.splice(0)) replica.close(() => new Error("test over"));
});

/** Replicas sharing one limit under a fresh key prefix; `logs` collects what they log. */
function cluster(count: number, settings: Partial<SharedLimitSettings> = {}) {
  const logs: string[] = [];
  const prefix = `test-${process.pid}-${prefixCount++}`;
  const made = Array.from({ length: count }, () => {
    const shared = new SharedLimit(
      { url: server.url, limit: 3, leaseMs: 1000, prefix, fallbackPoolSize: undefined, settleMs: 200, ...settings },
      (message) => logs.push(message),
    );
    const gate = new SharedGate(new Gate(10, 1000, () => 1000), shared);
    replicas.push(gate);
    return gate;
  });
  return { replicas: made, logs, keys: lua.redisKeys(prefix) };
}

const active = { now: 0, peak: 0 };
/** One call through a replica's gate that holds its slot for `ms`. */
async function call(gate: SharedGate, ms: number): Promise<void> {
  const release = await gate.acquire({ ticket: { deadlineAt: Number.POSITIVE_INFINITY } });
  active.now++;
  active.peak = Math.max(active.peak, active.now);
  await sleep(ms);
  active.now--;
  release();
}

function resetActive() {
  active.now = 0;
  active.peak = 0;
}

const connected = (gates: SharedGate[]) => () => gates.every((gate) => gate.shared.mode === "shared");

describe("shared limit on Redis", () => {
  it("holds every replica together to the global limit, and serves the calls in arrival order", async () => {
    const { replicas: gates } = cluster(3);
    await until(connected(gates), "replicas connected");
    resetActive();
    await Promise.all(gates.flatMap((gate) => Array.from({ length: 6 }, () => call(gate, 40))));
    expect(active.peak).toBe(3);
    await until(() => gates.every((gate) => gate.snapshot().replicas === 3), "every replica counted");
  });

  it("gives a killed replica's slots back once their leases expire", async () => {
    const { replicas: [gate], keys } = cluster(1, { limit: 2, leaseMs: 1000 });
    await until(connected([gate!]), "replica connected");
    // A replica that took both slots and then died: its leases are never renewed.
    const [seconds, micros] = await inspect.time();
    const expiry = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) + 1000;
    await inspect.zadd(keys.leases, expiry, "dead:1", expiry, "dead:2");
    resetActive();
    const calls = Promise.all([call(gate!, 10), call(gate!, 10)]);
    // Both wait while the dead replica's leases hold the pool, then are served once they expire.
    await until(() => gate!.shared.waiting === 2, "both calls waiting for a slot");
    expect(active.now).toBe(0);
    await calls;
    expect(await inspect.zcard(keys.leases)).toBe(0);
  });

  it("keeps a holder's lease alive by renewing it", async () => {
    const { replicas: [gate], keys } = cluster(1, { limit: 1, leaseMs: 200 });
    await until(connected([gate!]), "replica connected");
    const release = await gate!.acquire({ ticket: { deadlineAt: Number.POSITIVE_INFINITY } });
    await sleep(600); // three lease lifetimes
    expect(await inspect.zcard(keys.leases)).toBe(1);
    release();
    await until(() => gate!.inFlight === 0, "released");
  });

  it("a 429 on one replica pauses the others", async () => {
    const { replicas: gates } = cluster(2);
    await until(connected(gates), "replicas connected");
    gates[0]!.pause(1000);
    await until(() => gates[1]!.pauseRemainingMs() > 0, "pause reached the other replica", 2000);
    resetActive();
    const paused = call(gates[1]!, 1);
    await sleep(50);
    expect([active.now, gates[1]!.queued]).toEqual([0, 1]); // held in the queue by the pause
    await paused;
  });

  it("falls back to a local pool when Redis goes away, and shares the limit again when it is back", async () => {
    const { replicas: gates, logs, keys } = cluster(2, { limit: 4, leaseMs: 600 });
    await until(connected(gates), "replicas connected");
    await until(() => gates.every((gate) => gate.snapshot().replicas === 2), "replicas counted");
    resetActive();
    const calls = gates.flatMap((gate) => Array.from({ length: 8 }, () => call(gate, 60)));
    await sleep(30);
    await server.stop();
    // No call fails; each replica runs on limit ÷ replicas = 2 slots while Redis is away.
    await Promise.all(calls);
    expect(active.peak).toBeLessThanOrEqual(4);
    expect(gates.map((gate) => gate.snapshot()).map(({ redis, fallbackPoolSize, fallbacks }) => ({ redis, fallbackPoolSize, fallbacks }))).toEqual([
      { redis: "down", fallbackPoolSize: 2, fallbacks: 1 },
      { redis: "down", fallbackPoolSize: 2, fallbacks: 1 },
    ]);
    expect(logs.filter((line) => line.includes("Redis unreachable"))).toHaveLength(2); // once per replica

    // Redis comes back empty while calls run: the running ones are registered again before new ones are let in.
    resetActive();
    const held = gates.map((gate) => call(gate, 400));
    await sleep(50);
    await server.restart();
    await until(connected(gates), "replicas back on Redis", 5000);
    expect(logs.filter((line) => line.includes("Redis is back"))).toHaveLength(2);
    const more = gates.flatMap((gate) => Array.from({ length: 6 }, () => call(gate, 30)));
    await Promise.all([...held, ...more]);
    expect(active.peak).toBeLessThanOrEqual(4);
    await inspect.connect().catch(() => {});
    for (let tries = 0; (await inspect.zcard(keys.leases)) > 0; tries++) {
      if (tries > 100) throw new Error("leases left in Redis after every call ended");
      await sleep(10);
    }
  }, 20_000);

  it("sends the Python runtime the same Lua, byte for byte", () => {
    const python = readFileSync(new URL("../../runtime/python/llm_shared_limit.py", import.meta.url), "utf8");
    for (const script of [lua.ACQUIRE_LUA, lua.RELEASE_LUA, lua.RENEW_LUA, lua.PAUSE_LUA]) expect(python).toContain(script);
  });
});
