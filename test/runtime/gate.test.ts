// The gate in front of the upstream: pool bound, FIFO, bounded queue, cancellation, one deadline,
// EMERGENCY_MODE shedding, streams holding their slot, and drain — all against the stub with the real SDK.
import { describe, expect, it } from "vitest";
import {
  getAsyncLlmClient,
  LlmAbortedError,
  LlmDrainingError,
  LlmOverloadedError,
  LlmQueueFullError,
  LlmTimeoutError,
} from "../../runtime/index.js";
import { chat, setSwitch, until, useStubUpstream } from "./support.js";

const upstream = useStubUpstream();

function ask(text: string, options: { signal?: AbortSignal } = {}) {
  const sdk = upstream.sdk();
  return getAsyncLlmClient().run((request) => sdk.chat.completions.create(chat(text), request), options);
}

function replyOf(completion: { choices: { message: { content: string | null } }[] }): string | null {
  return completion.choices[0]!.message.content;
}

describe("the gate", () => {
  it("never has more than poolSize calls in flight upstream, and uses all of them", async () => {
    upstream.stub().configure({ latencyMs: 40 });
    getAsyncLlmClient({ poolSize: 3 });
    const texts = Array.from({ length: 20 }, (_, i) => `question ${i}`);
    const answers = await Promise.all(texts.map((text) => ask(text)));
    expect(answers.map(replyOf)).toEqual(texts.map((text) => `echo: ${text}`));
    expect(upstream.stub().stats().peakInFlight).toBe(3);
    expect(getAsyncLlmClient().getMetrics()).toMatchObject({ inFlight: 0, queued: 0, requestsTotal: 20, errorsTotal: 0 });
  });

  it("serves waiting calls first in, first out", async () => {
    upstream.stub().configure({ latencyMs: 10 });
    getAsyncLlmClient({ poolSize: 1 });
    const texts = Array.from({ length: 8 }, (_, i) => `in order ${i}`);
    await Promise.all(texts.map((text) => ask(text)));
    expect(upstream.stub().stats().received.map((request) => request.text)).toEqual(texts);
  });

  it("fails fast with a retryable LlmQueueFullError when the queue is full", async () => {
    upstream.stub().configure({ hang: true });
    const client = getAsyncLlmClient({ poolSize: 1, maxQueue: 2 });
    const stop = new AbortController();
    const held = ["in flight", "queued 1", "queued 2"].map((text) => ask(text, { signal: stop.signal }).catch((err) => err));
    await until(() => client.getMetrics().queued === 2 && upstream.stub().stats().requests === 1, "one call upstream, two queued");

    const error = await ask("one too many").catch((err) => err);
    expect(error).toBeInstanceOf(LlmQueueFullError);
    expect(error).toMatchObject({ code: "llm_queue_full", retryable: true });
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(upstream.stub().stats().requests).toBe(1);

    stop.abort();
    for (const outcome of await Promise.all(held)) expect(outcome).toBeInstanceOf(LlmAbortedError);
    expect(client.getMetrics().queued).toBe(0);
    await until(() => client.getMetrics().inFlight === 0, "the aborted upstream call to free its slot");
  });

  it("takes a cancelled queued call out of the queue at once", async () => {
    upstream.stub().configure({ hang: true });
    const client = getAsyncLlmClient({ poolSize: 1 });
    const first = new AbortController();
    const cancelled = new AbortController();
    const running = ask("first", { signal: first.signal }).catch((err) => err);
    await until(() => upstream.stub().stats().requests === 1, "the first call upstream");
    const leaving = ask("cancelled while queued", { signal: cancelled.signal }).catch((err) => err);
    const staying = ask("still queued").catch((err) => err);
    expect(client.getMetrics().queued).toBe(2);

    cancelled.abort();
    expect(client.getMetrics().queued).toBe(1);
    expect(await leaving).toBeInstanceOf(LlmAbortedError);

    upstream.stub().configure({ hang: false });
    first.abort();
    expect(await running).toBeInstanceOf(LlmAbortedError);
    expect(replyOf(await staying)).toBe("echo: still queued");
    expect(upstream.stub().stats().received.map((request) => request.text)).toEqual(["first", "still queued"]);
  });

  it("applies one deadline to the queue wait: a queued call times out there and never reaches upstream", async () => {
    const client = getAsyncLlmClient({ poolSize: 1, timeoutMs: 300 });
    // A task that ignores its signal: run() still rejects at the deadline, but the slot stays
    // taken until the task really stops, so the pool bound holds.
    const stuck = client.run(() => new Promise<never>(() => {})).catch((err) => err);
    const queued = await ask("waits").catch((err) => err);
    for (const error of [await stuck, queued]) {
      expect(error).toBeInstanceOf(LlmTimeoutError);
      expect(error).toMatchObject({ code: "llm_timeout", retryable: true });
    }
    expect(upstream.stub().stats().requests).toBe(0);
    expect(client.getMetrics()).toMatchObject({ inFlight: 1, queued: 0, errorsTotal: 2 });
    expect(client.getMetrics().errorsByType.timeout).toBe(2);
  });

  it("hands the task request options whose signal survives the SDK's copies and follows the deadline", async () => {
    let seen: Record<string, unknown> = {};
    const call = getAsyncLlmClient({ poolSize: 1, timeoutMs: 50 }).run(
      (options) =>
        new Promise((_resolve, reject) => {
          seen = { ...options };
          options.signal.addEventListener("abort", () => reject(options.signal.reason));
        }),
    );
    expect(Object.keys(seen).sort()).toEqual(["maxRetries", "signal", "timeout"]);
    expect(seen["signal"]).toBeInstanceOf(AbortSignal);
    expect(await call.catch((err) => err)).toBeInstanceOf(LlmTimeoutError);
    expect((seen["signal"] as AbortSignal).aborted).toBe(true);
  });

  it("applies the same deadline to a hung upstream call and frees its slot", async () => {
    upstream.stub().configure({ hang: true });
    const client = getAsyncLlmClient({ poolSize: 1, timeoutMs: 300 });
    expect(await ask("hangs").catch((err) => err)).toBeInstanceOf(LlmTimeoutError);
    await until(() => client.getMetrics().inFlight === 0, "the hung call to free its slot");
    upstream.stub().configure({ hang: false });
    expect(replyOf(await ask("after"))).toBe("echo: after");
    expect(upstream.stub().stats().received.map((request) => request.text)).toEqual(["hangs", "after"]);
  });

  it("sheds load under EMERGENCY_MODE: no queue, a call beyond the pool fails fast and may be retried", async () => {
    upstream.stub().configure({ hang: true });
    const client = getAsyncLlmClient({ poolSize: 1 });
    const stop = new AbortController();
    const running = ask("holds the only slot", { signal: stop.signal }).catch((err) => err);
    await until(() => upstream.stub().stats().requests === 1, "the slot taken upstream");

    setSwitch("EMERGENCY_MODE", "On");
    const shed = await ask("shed").catch((err) => err);
    expect(shed).toBeInstanceOf(LlmOverloadedError);
    expect(shed).toMatchObject({ code: "llm_overloaded", retryable: true });
    expect(client.getMetrics()).toMatchObject({ queued: 0, emergencyMode: true });

    setSwitch("EMERGENCY_MODE", undefined);
    const queued = ask("queues again", { signal: stop.signal }).catch((err) => err);
    expect(client.getMetrics().queued).toBe(1);
    stop.abort();
    expect(await running).toBeInstanceOf(LlmAbortedError);
    expect(await queued).toBeInstanceOf(LlmAbortedError);
  });

  it("keeps a stream's slot until the stream is read to the end", async () => {
    const client = getAsyncLlmClient({ poolSize: 1 });
    const sdk = upstream.sdk();
    const stream = await client.run((request) =>
      sdk.chat.completions.create({ ...chat("streamed answer"), stream: true }, request),
    );
    expect(client.getMetrics().inFlight).toBe(1);
    const next = ask("after the stream");
    expect(client.getMetrics().queued).toBe(1);

    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("echo: streamed answer");
    expect(replyOf(await next)).toBe("echo: after the stream");
    expect(client.getMetrics()).toMatchObject({ inFlight: 0, queued: 0, requestsTotal: 2 });
  });

  it("frees the slot of a helper stream read only through finalChatCompletion(), never iterated", async () => {
    const client = getAsyncLlmClient({ poolSize: 1 });
    const sdk = upstream.sdk();
    const stream = await client.run((request) => sdk.chat.completions.stream(chat("streamed answer"), request));
    expect(client.getMetrics().inFlight).toBe(1);
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe("echo: streamed answer");
    expect(replyOf(await ask("after the stream"))).toBe("echo: after the stream");
    expect(client.getMetrics()).toMatchObject({ inFlight: 0, queued: 0, requestsTotal: 2 });
  });

  it("frees a stream's slot when the caller aborts it, and when the reader stops early", async () => {
    const client = getAsyncLlmClient({ poolSize: 1 });
    const sdk = upstream.sdk();
    const caller = new AbortController();
    await client.run((request) => sdk.responses.create({ model: "gpt-4o-mini", input: "never read", stream: true }, request), {
      signal: caller.signal,
    });
    expect(client.getMetrics().inFlight).toBe(1);
    caller.abort();
    expect(client.getMetrics().inFlight).toBe(0);

    const stream = await client.run((request) =>
      sdk.responses.create({ model: "gpt-4o-mini", input: "read one event", stream: true }, request),
    );
    for await (const event of stream) {
      expect(event.type).toBe("response.created");
      break;
    }
    expect(client.getMetrics().inFlight).toBe(0);
  });
});

describe("drain", () => {
  it("stops taking calls, fails queued ones with a retryable error and lets in-flight ones finish", async () => {
    upstream.stub().configure({ latencyMs: 300 });
    const client = getAsyncLlmClient({ poolSize: 1 });
    const inFlight = ask("finishes");
    await until(() => upstream.stub().stats().requests === 1, "a call upstream");
    const queued = [ask("queued 1").catch((err) => err), ask("queued 2").catch((err) => err)];

    const drained = client.drain(10_000);
    for (const error of await Promise.all(queued)) {
      expect(error).toBeInstanceOf(LlmDrainingError);
      expect(error.retryable).toBe(true);
    }
    expect(await ask("too late").catch((err) => err)).toBeInstanceOf(LlmDrainingError);
    expect(replyOf(await inFlight)).toBe("echo: finishes");
    expect(await drained).toBe(true);
    expect(upstream.stub().stats().received.map((request) => request.text)).toEqual(["finishes"]);
  });

  it("aborts what is still running at its deadline and says so", async () => {
    upstream.stub().configure({ hang: true });
    const client = getAsyncLlmClient({ poolSize: 1 });
    const hung = ask("never answered").catch((err) => err);
    await until(() => upstream.stub().stats().requests === 1, "a call upstream");
    expect(await client.drain(200)).toBe(false);
    expect(await hung).toBeInstanceOf(LlmDrainingError);
    await until(() => client.getMetrics().inFlight === 0, "the aborted call to free its slot");
  });
});
