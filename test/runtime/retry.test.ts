// Retries live in one place: the runtime. Against the stub with the real SDK (its own retries off).
import { APIConnectionError, RateLimitError } from "openai";
import { describe, expect, it } from "vitest";
import { getAsyncLlmClient, llmHttpError, LlmRateLimitedError, LlmTimeoutError, LlmUpstreamError } from "../../runtime/index.js";
import { classifyUpstreamFailure, retryAfterFromHeaders, retryDelayMs } from "../../runtime/retry.js";
import OpenAI from "openai";
import { chat, closedPort, until, useStubUpstream } from "./support.js";

const upstream = useStubUpstream();

function ask(text: string) {
  const sdk = upstream.sdk();
  return getAsyncLlmClient().run((request) => sdk.chat.completions.create(chat(text), request));
}

/** Clock granularity: a timer of N ms may show as N - 1 on Date.now(). */
const CLOCK_SLACK_MS = 2;

describe("retries", () => {
  it("honours retry-after-ms on a 429, holds no slot meanwhile, and queued calls wait out the same pause", async () => {
    upstream.stub().configure({ rateLimitNext: 1, retryAfterMs: 400 });
    const client = getAsyncLlmClient({ poolSize: 1 });
    const first = ask("rate limited once");
    await until(() => client.getMetrics().retriesTotal === 1, "the retry to be scheduled");
    expect(client.getMetrics()).toMatchObject({ inFlight: 0, queued: 1, rateLimitedTotal: 1 });
    const second = ask("queued behind the pause");

    expect((await first).choices[0]!.message.content).toBe("echo: rate limited once");
    expect((await second).choices[0]!.message.content).toBe("echo: queued behind the pause");
    const [limited, retried, queued] = upstream.stub().stats().received;
    expect([limited, retried, queued].map((request) => [request!.text, request!.status])).toEqual([
      ["rate limited once", 429],
      ["rate limited once", 200],
      ["queued behind the pause", 200],
    ]);
    expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(400 - CLOCK_SLACK_MS);
    expect(queued!.at - limited!.at).toBeGreaterThanOrEqual(400 - CLOCK_SLACK_MS);
  });

  it("gets every call through an upstream whose hidden concurrency limit is below the pool", async () => {
    upstream.stub().configure({ concurrencyLimit: 2, latencyMs: 50, retryAfterMs: 30 });
    const client = getAsyncLlmClient({ poolSize: 4, maxRetries: 20 });
    const texts = Array.from({ length: 8 }, (_, i) => `limited ${i}`);
    const answers = await Promise.all(texts.map((text) => ask(text)));
    expect(answers.map((answer) => answer.choices[0]!.message.content)).toEqual(texts.map((text) => `echo: ${text}`));
    const metrics = client.getMetrics();
    expect(metrics.rateLimitedTotal).toBeGreaterThan(0);
    expect(metrics.retriesTotal).toBe(metrics.rateLimitedTotal);
    expect(metrics).toMatchObject({ errorsTotal: 0, requestsTotal: 8 });
  });

  it("backs off from a 5xx without its slot, so another call is served meanwhile", async () => {
    upstream.stub().configure({ failNext: 1, failStatus: 503 });
    const client = getAsyncLlmClient({ poolSize: 1 });
    const failing = ask("fails once");
    await until(() => client.getMetrics().retriesTotal === 1, "the backoff to start");
    expect(client.getMetrics().inFlight).toBe(0);
    expect((await ask("served meanwhile")).choices[0]!.message.content).toBe("echo: served meanwhile");
    expect((await failing).choices[0]!.message.content).toBe("echo: fails once");
    expect(upstream.stub().stats().received.map((request) => [request.text, request.status])).toEqual([
      ["fails once", 503],
      ["served meanwhile", 200],
      ["fails once", 200],
    ]);
    expect(client.getMetrics()).toMatchObject({ retriesTotal: 1, errorsTotal: 0, requestsTotal: 2 });
  });

  it("never retries insufficient_quota and hands the SDK's own error back", async () => {
    upstream.stub().configure({ insufficientQuotaNext: 1 });
    const client = getAsyncLlmClient({ poolSize: 2 });
    const error = await ask("no quota").catch((err) => err);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, code: "insufficient_quota" });
    expect(llmHttpError(error)).toBeUndefined();
    expect(upstream.stub().stats().requests).toBe(1);
    expect(client.getMetrics()).toMatchObject({ retriesTotal: 0, errorsTotal: 1 });
  });

  it("turns off the SDK's own retries: one upstream request per attempt", async () => {
    upstream.stub().configure({ failNext: 5 });
    getAsyncLlmClient({ poolSize: 1, maxRetries: 0 });
    const error = await ask("fails").catch((err) => err);
    expect(error).toBeInstanceOf(LlmUpstreamError);
    expect(error).toMatchObject({ code: "llm_upstream", status: 500, retryable: true });
    expect(upstream.stub().stats().requests).toBe(1);
  });

  it("also turns them off on an OpenAI instance given to generateResponseAsync", async () => {
    upstream.stub().configure({ failNext: 5 });
    const own = new OpenAI({ baseURL: upstream.stub().url, apiKey: "sk-test-not-a-secret", maxRetries: 5 });
    const client = getAsyncLlmClient({ poolSize: 1, maxRetries: 0, openai: own });
    expect(await client.generateResponseAsync("hello").catch((err) => err)).toBeInstanceOf(LlmUpstreamError);
    expect(upstream.stub().stats().requests).toBe(1);
  });

  it("gives up with LlmUpstreamError after maxRetries", async () => {
    upstream.stub().configure({ failNext: 10, failStatus: 502 });
    const client = getAsyncLlmClient({ poolSize: 1, maxRetries: 1 });
    const error = await ask("keeps failing").catch((err) => err);
    expect(error).toBeInstanceOf(LlmUpstreamError);
    expect(error.status).toBe(502);
    expect(llmHttpError(error)?.status).toBe(503);
    expect(upstream.stub().stats().requests).toBe(2);
    expect(client.getMetrics()).toMatchObject({ retriesTotal: 1, errorsTotal: 1 });
  });

  it("keeps every retry inside the one deadline", async () => {
    upstream.stub().configure({ failNext: 1000 });
    const client = getAsyncLlmClient({ poolSize: 1, maxRetries: 100, timeoutMs: 1500 });
    const error = await ask("always 500").catch((err) => err);
    expect(error).toBeInstanceOf(LlmTimeoutError);
    expect(error.cause).toMatchObject({ status: 500 });
    // Backoff 0.5 s then 1 s (less jitter): two or three attempts fit, never a hundred.
    const attempts = upstream.stub().stats().requests;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(3);
    expect(client.getMetrics().retriesTotal).toBe(attempts - 1);
  });

  it("fails at once when the upstream asks for a pause longer than the deadline left", async () => {
    upstream.stub().configure({ rateLimitNext: 1, retryAfterMs: 30_000 });
    getAsyncLlmClient({ poolSize: 1, timeoutMs: 5_000 });
    const error = await ask("asked to wait 30 s").catch((err) => err);
    expect(error).toBeInstanceOf(LlmRateLimitedError);
    expect(error.retryAfterMs).toBe(30_000);
    expect(llmHttpError(error)?.headers["Retry-After"]).toBe("30");
    expect(upstream.stub().stats().requests).toBe(1);
  });

  it("retries connection errors", async () => {
    const nobody = new OpenAI({ baseURL: `http://127.0.0.1:${await closedPort()}/v1`, apiKey: "sk-test-not-a-secret" });
    const client = getAsyncLlmClient({ poolSize: 1, maxRetries: 1 });
    const error = await client.run((request) => nobody.chat.completions.create(chat("anyone?"), request)).catch((err) => err);
    expect(error).toBeInstanceOf(LlmUpstreamError);
    expect(error.status).toBeUndefined();
    expect(error.cause).toBeInstanceOf(APIConnectionError);
    expect(client.getMetrics().retriesTotal).toBe(1);
  });
});

describe("reading what the upstream asked for", () => {
  const failure = (status: number | undefined, headers: Record<string, string>, body?: object) =>
    Object.assign(new Error("upstream"), { status, headers: new Headers(headers), error: body });

  it.each([
    ["retry-after-ms", { "retry-after-ms": "1500" }, 1500],
    ["retry-after in seconds", { "retry-after": "2" }, 2000],
    ["retry-after-ms before retry-after", { "retry-after-ms": "250", "retry-after": "9" }, 250],
    ["nothing", {}, undefined],
  ])("reads %s", (_name, headers, expected) => {
    expect(retryAfterFromHeaders(failure(429, headers))).toBe(expected);
  });

  it("reads retry-after as an HTTP date", () => {
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    const waited = retryAfterFromHeaders(failure(503, { "retry-after": inTenSeconds }))!;
    expect(waited).toBeGreaterThan(8_000);
    expect(waited).toBeLessThanOrEqual(10_000);
  });

  it("reads headers of a v3 (axios) error", () => {
    const axiosError = { response: { status: 429, headers: { "retry-after-ms": "700" } } };
    expect(retryAfterFromHeaders(axiosError)).toBe(700);
    expect(classifyUpstreamFailure(axiosError)).toEqual({ retryable: true, rateLimited: true, status: 429 });
  });

  it("cuts a Retry-After to the cap (60 s unless configured)", () => {
    const anHour = failure(429, { "retry-after-ms": "3600000" });
    expect(retryDelayMs(anHour, 0)).toBe(60_000);
    expect(retryDelayMs(anHour, 0, 250)).toBe(250);
  });

  it("falls back to openai-node's jittered exponential backoff", () => {
    for (const [attempt, high] of [[0, 500], [1, 1000], [2, 2000], [5, 8000], [9, 8000]] as const) {
      const delay = retryDelayMs(failure(500, {}), attempt);
      expect(delay).toBeGreaterThan(high * 0.75 - 1);
      expect(delay).toBeLessThanOrEqual(high);
    }
  });

  it.each([
    [408, true],
    [409, true],
    [429, true],
    [500, true],
    [503, true],
    [400, false],
    [401, false],
    [404, false],
  ])("treats status %i as retryable: %s", (status, retryable) => {
    expect(classifyUpstreamFailure(failure(status, {})).retryable).toBe(retryable);
  });

  it("obeys x-should-retry and never retries insufficient_quota", () => {
    expect(classifyUpstreamFailure(failure(500, { "x-should-retry": "false" })).retryable).toBe(false);
    expect(classifyUpstreamFailure(failure(400, { "x-should-retry": "true" })).retryable).toBe(true);
    const quota = failure(429, {}, { code: "insufficient_quota", type: "insufficient_quota" });
    expect(classifyUpstreamFailure(quota)).toEqual({ retryable: false, rateLimited: false, status: 429 });
  });
});
