// LLM_POOL_SIZE=auto: the limit finds the upstream's capacity, against the stub's capacity K.
import { describe, expect, it } from "vitest";
import { getAsyncLlmClient, type AsyncLlmClient } from "../../runtime/index.js";
import { AimdLimit } from "../../runtime/limit.js";
import { until, useStubUpstream } from "./support.js";

const upstream = useStubUpstream();

/** `callers` users, each making calls one after another until `done()` says stop. */
async function drive(client: AsyncLlmClient, callers: number, done: () => boolean): Promise<number> {
  let failed = 0;
  await Promise.all(
    Array.from({ length: callers }, async (_, user) => {
      for (let turn = 0; !done(); turn++) {
        await client.generateResponseAsync(`user ${user} turn ${turn}`).catch(() => failed++);
      }
    }),
  );
  return failed;
}

describe("the adaptive limit (LLM_POOL_SIZE=auto)", () => {
  it("settles at the upstream's capacity and rises again after the capacity rises", async () => {
    upstream.stub().configure({ concurrencyLimit: 2, latencyMs: 20, retryAfterMs: 5 });
    process.env.OPENAI_BASE_URL = upstream.stub().url;
    process.env.LLM_POOL_SIZE = "auto";
    process.env.LLM_POOL_MAX = "12";
    const client = getAsyncLlmClient({ poolSize: 4, maxRetries: 10 });
    expect(client.getMetrics()).toMatchObject({ poolMode: "auto", poolSize: 1 });

    let phase = "at capacity 2";
    const driving = drive(client, 12, () => phase === "done");
    await until(() => upstream.stub().stats().byStatus["200"]! >= 60, "60 answers at capacity 2");
    // Near capacity 2; a probe may stand one or two above it for a round.
    expect(client.getMetrics().poolSize).toBeLessThan(6);

    phase = "at capacity 8";
    upstream.stub().configure({ concurrencyLimit: 8 });
    await until(() => client.getMetrics().poolSize >= 7, "the limit to rise to the new capacity", 20_000);
    phase = "done";
    expect(await driving).toBe(0);
    expect(upstream.stub().stats().peakInFlight).toBeLessThanOrEqual(8);
  }, 30_000);

  it("settles near the capacity of an upstream that queues instead of refusing, from latency alone", async () => {
    // K = 4 calls worked on at once, 200 ms each; the rest wait inside the stub and no 429 ever comes.
    upstream.stub().configure({ servingLimit: 4, latencyMs: 200 });
    process.env.OPENAI_BASE_URL = upstream.stub().url;
    // A cap of 12, as this test has always run: it read LLM_POOL_MAX=12 left behind by the test above
    // until the runtime tests' support cleared every LLM_ variable (with a cap of 32 the probe can reach 12).
    const client = getAsyncLlmClient({ poolSize: "auto", poolMax: 12 });
    let stop = false;
    const driving = drive(client, 16, () => stop);
    await until(() => upstream.stub().stats().requests >= 40, "40 calls", 20_000);
    // Then where the limit stands, every 20 ms for the next 60 calls: it probes above K and falls back.
    const seen: number[] = [];
    const watch = setInterval(() => seen.push(client.getMetrics().poolSize), 20);
    await until(() => upstream.stub().stats().requests >= 100, "100 calls", 20_000);
    clearInterval(watch);
    stop = true;
    expect(await driving).toBe(0);
    expect(upstream.stub().stats().byStatus["429"]).toBeUndefined();
    // Without the latency signal the limit would climb to the 16 callers; with it, it stays around K.
    const average = seen.reduce((sum, limit) => sum + limit, 0) / seen.length;
    expect(average).toBeGreaterThanOrEqual(3);
    expect(average).toBeLessThanOrEqual(6.5);
    expect(Math.max(...seen)).toBeLessThanOrEqual(10);
  }, 30_000);

  it("takes the capacity from the rate-limit headers and never meets a 429", async () => {
    upstream.stub().configure({ concurrencyLimit: 5, latencyMs: 20, rateLimitHeaders: true });
    process.env.OPENAI_BASE_URL = upstream.stub().url;
    const client = getAsyncLlmClient({ poolSize: "auto" });
    let stop = false;
    const driving = drive(client, 12, () => stop);
    await until(() => upstream.stub().stats().requests >= 100, "100 calls");
    stop = true;
    expect(await driving).toBe(0);
    expect(client.getMetrics().poolSize).toBe(5);
    expect(upstream.stub().stats().byStatus["429"]).toBeUndefined();
  });
});

describe("AimdLimit", () => {
  it("grows by one per good sample while in slow start, and backs off once per round on drops", () => {
    const limit = new AimdLimit({ min: 1, max: 50 });
    const sent = Date.now() - 10;
    for (let i = 0; i < 5; i++) limit.onSample(sent, 10, limit.current, false, Number.NaN);
    expect(limit.current).toBe(6);
    limit.onSample(Date.now(), 10, 6, true, Number.NaN);
    expect(limit.current).toBe(5);
    // Another drop of a call sent before that decrease is the same congestion: no second cut.
    limit.onSample(sent, 10, 5, true, Number.NaN);
    expect(limit.current).toBe(5);
  });

  it("shrinks when a round's latency rises well above the usual, with no drop at all", () => {
    const limit = new AimdLimit({ min: 1, max: 50, initial: 8 });
    // Each call sent after the last answer came (a round each): sent "later" than any answer.
    let at = Date.now() + 60_000;
    for (let i = 0; i < 6; i++) limit.onSample((at += 1), 100, limit.current, false, Number.NaN);
    const before = limit.current;
    limit.onSample((at += 1), 110, before, false, Number.NaN);
    expect(limit.current, "10 % slower is not a rise").toBeGreaterThanOrEqual(before);
    const grown = limit.current;
    limit.onSample((at += 1), 400, grown, false, Number.NaN);
    expect(limit.current).toBeLessThan(grown);
    expect(limit.current, "at most halved").toBeGreaterThanOrEqual(Math.floor(grown / 2));
  });

  it("stays within its bounds", () => {
    const limit = new AimdLimit({ min: 2, max: 3 });
    expect(limit.current).toBe(2);
    for (let i = 0; i < 10; i++) limit.onSample(Date.now() - 10, 10, limit.current, false, Number.NaN);
    expect(limit.current).toBe(3);
    for (let i = 0; i < 10; i++) limit.onSample(Date.now() + i, 10, 3, true, Number.NaN);
    expect(limit.current).toBe(2);
  });
});
