// The runtime under load, against the stub with the real openai SDK: 1,000 concurrent callers
// against a pool of 10 with a queue of 100, and many calls in a row without the heap growing.
import { getEventListeners } from "node:events";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { getAsyncLlmClient, LlmQueueFullError, LlmTimeoutError } from "../../runtime/index.js";
import { chat, until, useStubUpstream } from "../runtime/support.js";

const upstream = useStubUpstream();

/** Starts `count` callers at once; outcomes are listed in the order they settled. */
function crowd(count: number): { settled: unknown[]; all: Promise<unknown[]> } {
  const client = getAsyncLlmClient();
  const sdk = upstream.sdk();
  const settled: unknown[] = [];
  const all = Promise.all(
    Array.from({ length: count }, (_, i) =>
      client
        .run((request) => sdk.chat.completions.create(chat(`caller ${i}`), request))
        .catch((err: unknown) => err)
        .then((outcome) => {
          settled.push(outcome);
          return outcome;
        }),
    ),
  );
  return { settled, all };
}

describe("1,000 concurrent callers against pool 10 with maxQueue 100", () => {
  it("those beyond pool + queue get the typed retryable error at once; the rest end at their deadline, not after", async () => {
    upstream.stub().configure({ hang: true });
    const client = getAsyncLlmClient({ poolSize: 10, maxQueue: 100, timeoutMs: 1_000 });
    const { settled, all } = crowd(1_000);
    const outcomes = await all;

    const queueFull = outcomes.filter((outcome) => outcome instanceof LlmQueueFullError);
    expect(queueFull).toHaveLength(890);
    for (const error of queueFull) expect(error).toMatchObject({ code: "llm_queue_full", retryable: true, retryAfterMs: expect.any(Number) });
    // "At once": every rejection came before any admitted call ended, and they end only at the deadline.
    expect(settled.slice(0, 890).every((outcome) => outcome instanceof LlmQueueFullError)).toBe(true);
    expect(settled.slice(890).every((outcome) => outcome instanceof LlmTimeoutError)).toBe(true);
    // The deadline covers the queue: none of the 100 queued calls ever reached the upstream.
    expect(upstream.stub().stats().requests).toBe(10);
    expect(client.getMetrics()).toMatchObject({ queued: 0, errorsTotal: 1_000 });
    expect(client.getMetrics().errorsByType).toMatchObject({ queue_full: 890, timeout: 110 });
    await until(() => client.getMetrics().inFlight === 0 && upstream.stub().stats().inFlight === 0, "the hung upstream calls to be cut off");
  });

  it("against a slow upstream, every admitted call is answered or times out, each sent upstream at most once", async () => {
    upstream.stub().configure({ latencyMs: 100 });
    const client = getAsyncLlmClient({ poolSize: 10, maxQueue: 100, timeoutMs: 600 });
    const outcomes = await crowd(1_000).all;
    const answered = outcomes.filter((outcome) => !(outcome instanceof Error));
    const timedOut = outcomes.filter((outcome) => outcome instanceof LlmTimeoutError);
    expect(outcomes.filter((outcome) => outcome instanceof LlmQueueFullError)).toHaveLength(890);
    expect(answered.length + timedOut.length).toBe(110);
    expect(answered.length).toBeGreaterThan(0);
    // Calls still queued at their deadline were never sent; a call is cut off in flight only when
    // its deadline passes there, so the upstream saw at most the admitted calls, each once.
    const sent = upstream.stub().stats().received.map((request) => request.text);
    expect(new Set(sent).size).toBe(sent.length);
    expect(sent.length).toBeGreaterThanOrEqual(answered.length);
    expect(sent.length).toBeLessThan(110);
    expect(client.getMetrics().queued).toBe(0);
    await until(() => client.getMetrics().inFlight === 0, "the slots of calls cut off upstream to free");
  });
});

describe("many calls in a row", () => {
  it("leave no listener on a long-lived caller signal, on any path: answered, failed, timed out", async () => {
    const client = getAsyncLlmClient({ poolSize: 4, maxRetries: 0, timeoutMs: 300 });
    const caller = new AbortController();
    const { signal } = caller;
    const sdk = upstream.sdk();
    for (let i = 0; i < 200; i++) await client.run((request) => sdk.chat.completions.create(chat(`n${i}`), request), { signal });
    const failing = () => Promise.reject(Object.assign(new Error("500"), { status: 500 }));
    for (let i = 0; i < 200; i++) await client.run(failing, { signal }).catch(() => undefined);
    const hanging = (request: { signal: AbortSignal }) => new Promise((_, reject) => request.signal.addEventListener("abort", () => reject(request.signal.reason)));
    const timedOut = await Promise.all(Array.from({ length: 8 }, () => client.run(hanging, { signal }).catch((err: unknown) => err)));
    expect(timedOut.every((outcome) => outcome instanceof LlmTimeoutError)).toBe(true);
    expect(getEventListeners(signal, "abort")).toHaveLength(0);
  });

  it("keep the heap flat (figures for 50,000: npm run bench:memory)", async () => {
    setFlagsFromString("--expose-gc");
    const collectGarbage = runInNewContext("gc") as () => void;
    const heapUsed = () => {
      collectGarbage();
      collectGarbage();
      return process.memoryUsage().heapUsed;
    };
    const client = getAsyncLlmClient({ poolSize: 10, maxRetries: 0 });
    const batch = async (calls: number) => {
      for (let i = 0; i < calls; i += 100) {
        await Promise.all(
          Array.from({ length: 100 }, (_, j) =>
            (i + j) % 2 === 0 ? client.run(async () => j) : client.run(() => Promise.reject(Object.assign(new Error("500"), { status: 500 }))).catch(() => undefined),
          ),
        );
      }
    };
    await batch(5_000);
    const before = heapUsed();
    await batch(20_000);
    const grownBytes = heapUsed() - before;
    // A leak of 200 bytes per call would be 4 MB here; flat is within noise.
    expect(grownBytes).toBeLessThan(4 * 1024 * 1024);
    expect(client.getMetrics()).toMatchObject({ inFlight: 0, queued: 0 });
  });
});
