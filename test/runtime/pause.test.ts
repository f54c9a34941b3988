// The pause after a 429: capped, visible, and never a reason to hold a call until its deadline.
import { describe, expect, it } from "vitest";
import { getAsyncLlmClient, llmHttpError, LlmRateLimitedError } from "../../runtime/index.js";
import { chat, until, useStubUpstream } from "./support.js";

const upstream = useStubUpstream();
const AN_HOUR_MS = 3_600_000;

function ask(text: string) {
  const sdk = upstream.sdk();
  return getAsyncLlmClient().run((request) => sdk.chat.completions.create(chat(text), request));
}

describe("the pause after a 429", () => {
  it("obeys an hour-long Retry-After for at most 60 s and fails calls the pause outlasts at once, with Retry-After = the pause left", async () => {
    upstream.stub().configure({ rateLimitNext: 1, retryAfterMs: AN_HOUR_MS });
    const client = getAsyncLlmClient({ poolSize: 2, timeoutMs: 5_000 });

    const first = await ask("meets the 429").catch((err) => err);
    expect(first).toBeInstanceOf(LlmRateLimitedError);
    expect(first.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(first.retryAfterMs).toBeGreaterThan(59_000);

    const later = await ask("arrives during the pause").catch((err) => err);
    expect(later).toBeInstanceOf(LlmRateLimitedError);
    const reply = llmHttpError(later)!;
    expect(reply.status).toBe(503);
    expect(Number(reply.headers["Retry-After"])).toBeGreaterThan(58);
    expect(Number(reply.headers["Retry-After"])).toBeLessThanOrEqual(60);

    const metrics = client.getMetrics();
    expect(metrics.pauseRemainingMs).toBeGreaterThan(58_000);
    expect(metrics.pauseRemainingMs).toBeLessThanOrEqual(60_000);
    expect(metrics).toMatchObject({ inFlight: 0, queued: 0, rateLimitedTotal: 1 });
    expect(metrics.errorsByType.rate_limited).toBe(2);
    expect(await client.metricsText()).toMatch(/^llm_gate_pause_remaining_seconds (59|60)(\.\d+)?$/m);
    // The later call never reached the upstream: only the one 429.
    expect(upstream.stub().stats().requests).toBe(1);
  });

  it("fails queued calls at once when a pause starts that outlasts their deadline", async () => {
    upstream.stub().configure({ latencyMs: 200, retryAfterMs: AN_HOUR_MS });
    const client = getAsyncLlmClient({ poolSize: 2, timeoutMs: 5_000, maxRetryAfterMs: 30_000 });
    const sdk = upstream.sdk();
    const running = ask("holds a slot");
    // Holds the other slot a moment, then meets a 429, while a third call waits in the queue.
    const limited = client
      .run(async (request) => {
        await until(() => client.getMetrics().queued === 1, "a queued call");
        upstream.stub().configure({ rateLimitNext: 1 });
        return sdk.chat.completions.create(chat("rate limited"), request);
      })
      .catch((err) => err);
    const queued = ask("waits in the queue").catch((err) => err);
    expect(await limited).toBeInstanceOf(LlmRateLimitedError);
    expect(await queued).toBeInstanceOf(LlmRateLimitedError);
    expect(client.getMetrics()).toMatchObject({ queued: 0, inFlight: 1 });
    expect((await running).choices[0]!.message.content).toBe("echo: holds a slot");
    const seen = upstream.stub().stats().received.map((request) => [request.text, request.status]);
    expect(seen.sort()).toEqual([
      ["holds a slot", 200],
      ["rate limited", 429],
    ]);
  });

  it("serves calls again as soon as the pause ends", async () => {
    upstream.stub().configure({ rateLimitNext: 1, retryAfterMs: AN_HOUR_MS });
    // A pause of 1.5 s outlasts a deadline of 1 s (long enough for a loaded machine's first call).
    const client = getAsyncLlmClient({ poolSize: 2, timeoutMs: 1_000, maxRetryAfterMs: 1_500 });
    expect(await ask("meets the 429").catch((err) => err)).toBeInstanceOf(LlmRateLimitedError);
    expect(await ask("during the pause").catch((err) => err)).toBeInstanceOf(LlmRateLimitedError);
    await until(() => client.getMetrics().pauseRemainingMs === 0, "the pause to end");
    expect((await ask("after the pause")).choices[0]!.message.content).toBe("echo: after the pause");
    expect(client.getMetrics()).toMatchObject({ pauseRemainingMs: 0, inFlight: 0 });
    expect(upstream.stub().stats().received.map((request) => [request.text, request.status])).toEqual([
      ["meets the 429", 429],
      ["after the pause", 200],
    ]);
  });
});
