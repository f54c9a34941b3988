// The runtime under upstream faults, against the stub with the real openai SDK: a 429 storm, 5xx
// bursts, an upstream that hangs, an upstream that is down. Every caller gets an answer or a typed
// error, the pool bound holds throughout, and the gate is empty afterwards.
import { APIConnectionError } from "openai";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { getAsyncLlmClient, llmHttpError, LlmTimeoutError, LlmUpstreamError, type AsyncLlmClient } from "../../runtime/index.js";
import { chat, closedPort, until, useStubUpstream } from "../runtime/support.js";

const upstream = useStubUpstream();

function askAll(count: number, sdk: OpenAI = upstream.sdk(), timeoutMs?: (i: number) => number): Promise<unknown>[] {
  const client = getAsyncLlmClient();
  return Array.from({ length: count }, (_, i) =>
    client
      .run((request) => sdk.chat.completions.create(chat(`caller ${i}`), request), { timeoutMs: timeoutMs?.(i) })
      .catch((err: unknown) => err),
  );
}

function replies(outcomes: unknown[]): unknown[] {
  return outcomes.map((outcome) => (outcome as { choices?: { message: { content: string } }[] }).choices?.[0]?.message.content ?? outcome);
}

async function expectGateEmpty(client: AsyncLlmClient): Promise<void> {
  await until(() => client.getMetrics().inFlight === 0 && client.getMetrics().queued === 0, "the gate to empty");
  await until(() => upstream.stub().stats().inFlight === 0, "every upstream connection to close");
}

describe("a 429 storm", () => {
  it("that ends: every caller is answered, each 429 costs one retry, and the pool bound holds", async () => {
    upstream.stub().configure({ rateLimitNext: 60, retryAfterMs: 20 });
    const client = getAsyncLlmClient({ poolSize: 10, maxRetries: 10 });
    const outcomes = await Promise.all(askAll(40));
    expect(replies(outcomes)).toEqual(Array.from({ length: 40 }, (_, i) => `echo: caller ${i}`));
    expect(client.getMetrics()).toMatchObject({ requestsTotal: 40, errorsTotal: 0, rateLimitedTotal: 60, retriesTotal: 60 });
    const stats = upstream.stub().stats();
    expect(stats.byStatus).toEqual({ "429": 60, "200": 40 });
    expect(stats.peakInFlight).toBeLessThanOrEqual(10);
    await expectGateEmpty(client);
  });

  it("that does not end: every caller gets a retryable LlmUpstreamError (503 + Retry-After), never more than maxRetries retries each", async () => {
    upstream.stub().configure({ rateLimitNext: 1_000_000, retryAfterMs: 20 });
    const client = getAsyncLlmClient({ poolSize: 5, maxRetries: 2 });
    const outcomes = await Promise.all(askAll(20));
    for (const error of outcomes) {
      expect(error).toBeInstanceOf(LlmUpstreamError);
      expect(error).toMatchObject({ code: "llm_upstream", status: 429, retryable: true });
      expect(llmHttpError(error)).toMatchObject({ status: 503, headers: { "Retry-After": "1" } });
    }
    // Three attempts per caller, and no SDK retries stacked on top.
    expect(upstream.stub().stats().requests).toBe(60);
    expect(upstream.stub().stats().peakInFlight).toBeLessThanOrEqual(5);
    expect(client.getMetrics()).toMatchObject({ errorsTotal: 20, retriesTotal: 40, rateLimitedTotal: 60 });
    await expectGateEmpty(client);
  });
});

describe("5xx bursts", () => {
  it.each([500, 503])("a burst of %i: retried after a backoff, every caller answered", async (status) => {
    upstream.stub().configure({ failNext: 25, failStatus: status });
    const client = getAsyncLlmClient({ poolSize: 10 });
    const outcomes = await Promise.all(askAll(40));
    expect(replies(outcomes)).toEqual(Array.from({ length: 40 }, (_, i) => `echo: caller ${i}`));
    expect(upstream.stub().stats().byStatus).toEqual({ [String(status)]: 25, "200": 40 });
    expect(upstream.stub().stats().peakInFlight).toBeLessThanOrEqual(10);
    expect(client.getMetrics()).toMatchObject({ errorsTotal: 0, retriesTotal: 25, rateLimitedTotal: 0 });
    await expectGateEmpty(client);
  });
});

describe("an upstream that hangs", () => {
  it("the deadline ends every call, in flight or queued; queued ones never reach upstream; the connections close", async () => {
    upstream.stub().configure({ hang: true });
    const client = getAsyncLlmClient({ poolSize: 5, timeoutMs: 500 });
    // The queued 15 have the shorter deadline, so none of them is handed a slot before it passes,
    // however late a loaded machine runs the deadline clock.
    const outcomes = await Promise.all(askAll(20, upstream.sdk(), (i) => (i < 5 ? 500 : 250)));
    for (const error of outcomes) {
      expect(error).toBeInstanceOf(LlmTimeoutError);
      expect(llmHttpError(error)?.status).toBe(503);
    }
    expect(upstream.stub().stats().requests).toBe(5);
    expect(client.getMetrics().errorsByType.timeout).toBe(20);
    await expectGateEmpty(client);

    upstream.stub().configure({ hang: false });
    expect(replies(await Promise.all(askAll(3)))).toEqual(["echo: caller 0", "echo: caller 1", "echo: caller 2"]);
  });
});

describe("an upstream that is down", () => {
  it("connection refused: every caller gets a retryable LlmUpstreamError after its retries, and the gate empties", async () => {
    const nobody = new OpenAI({ baseURL: `http://127.0.0.1:${await closedPort()}/v1`, apiKey: "sk-test-not-a-secret" });
    const client = getAsyncLlmClient({ poolSize: 5, maxRetries: 1 });
    const outcomes = await Promise.all(askAll(20, nobody));
    for (const error of outcomes) {
      expect(error).toBeInstanceOf(LlmUpstreamError);
      expect(error).toMatchObject({ code: "llm_upstream", status: undefined, retryable: true });
      expect((error as LlmUpstreamError).cause).toBeInstanceOf(APIConnectionError);
      expect(llmHttpError(error)?.status).toBe(503);
    }
    expect(client.getMetrics()).toMatchObject({ inFlight: 0, queued: 0, errorsTotal: 20, retriesTotal: 20 });
  });

  it("the runtime's own SDK pointed at a closed port (OPENAI_BASE_URL): the same typed error from generateResponseAsync", async () => {
    process.env.OPENAI_BASE_URL = `http://127.0.0.1:${await closedPort()}/v1`;
    const client = getAsyncLlmClient({ poolSize: 2, maxRetries: 0 });
    const error = await client.generateResponseAsync("anyone there?").catch((err: unknown) => err);
    expect(error).toBeInstanceOf(LlmUpstreamError);
    expect((error as LlmUpstreamError).cause).toBeInstanceOf(APIConnectionError);
  });
});
