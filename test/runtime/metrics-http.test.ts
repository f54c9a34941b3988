// getMetrics(), the Prometheus exposition, GET /metrics/llm and the 503 + Retry-After helper,
// the last two inside a real Express app on loopback, written the way migrated servers are.
import express from "express";
import type { AddressInfo } from "node:net";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import {
  getAsyncLlmClient,
  handleLlmErrors,
  llmHttpError,
  llmMetricsResponse,
  LlmAbortedError,
  LlmQueueFullError,
  LlmTimeoutError,
  useNewLlmPath,
} from "../../runtime/index.js";
import { chat, until, useStubUpstream } from "./support.js";

const upstream = useStubUpstream();

const SECRET_PROMPT = "my password is hunter2";
const SECRET_KEY = "sk-test-not-a-secret";

async function someTraffic() {
  const client = getAsyncLlmClient({ poolSize: 2 });
  const sdk = upstream.sdk();
  useNewLlmPath({ key: "user-1" });
  await client.run((request) => sdk.chat.completions.create(chat(SECRET_PROMPT), request));
  upstream.stub().configure({ insufficientQuotaNext: 1 });
  await client.run((request) => sdk.chat.completions.create(chat(SECRET_PROMPT), request)).catch(() => undefined);
  return client;
}

/** One sample line of the text format: name{labels} value. */
const SAMPLE_LINE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/;

describe("getMetrics", () => {
  it("has the keys of the SPEC, with counts and a sliding window, and no prompts or keys", async () => {
    const metrics = (await someTraffic()).getMetrics();
    for (const key of [
      "poolSize",
      "inFlight",
      "queued",
      "requestsTotal",
      "errorsTotal",
      "errorRate",
      "rps",
      "latencyMs",
      "rateLimitedTotal",
      "retriesTotal",
      "paths",
      "utilisation",
    ]) {
      expect(metrics).toHaveProperty(key);
    }
    expect(metrics).toMatchObject({
      poolSize: 2,
      inFlight: 0,
      queued: 0,
      requestsTotal: 2,
      errorsTotal: 1,
      errorRate: 0.5,
      rateLimitedTotal: 0,
      retriesTotal: 0,
      paths: { new: 1, legacy: 0 },
      utilisation: 0,
    });
    expect(Object.keys(metrics.latencyMs).sort()).toEqual(["avg", "p50", "p95", "p99"]);
    expect(metrics.latencyMs.p50).toBeLessThanOrEqual(metrics.latencyMs.p95);
    expect(metrics.latencyMs.p95).toBeLessThanOrEqual(metrics.latencyMs.p99);
    expect(metrics.rps).toBeGreaterThan(0);
    const text = JSON.stringify(metrics);
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain(SECRET_KEY);
  });
});

describe("Prometheus text", () => {
  it("parses, with LLM-sized duration buckets and GenAI-style names", async () => {
    const client = await someTraffic();
    const text = await client.metricsText();
    for (const line of text.split("\n").filter((line) => line !== "" && !line.startsWith("#"))) {
      expect(line).toMatch(SAMPLE_LINE);
    }
    const families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
    const duration = families.get("gen_ai_client_operation_duration_seconds");
    expect(duration?.type).toBe("HISTOGRAM");
    expect(Object.keys(duration!.metrics[0]!.buckets!)).toContain("81.92");
    // One series per OpenTelemetry attribute set: the answered attempt and the 429 (insufficient_quota).
    const otel = 'gen_ai_operation_name="_OTHER",gen_ai_provider_name="_OTHER",gen_ai_request_model=""';
    expect(text).toMatch(new RegExp(`^gen_ai_client_operation_duration_seconds_count\\{${otel},error_type=""\\} 1$`, "m"));
    expect(text).toMatch(new RegExp(`^gen_ai_client_operation_duration_seconds_count\\{${otel},error_type="429"\\} 1$`, "m"));
    expect(families.get("gen_ai_client_token_usage")?.type).toBe("HISTOGRAM");
    expect(text).toMatch(new RegExp(`^gen_ai_client_token_usage_count\\{${otel},gen_ai_token_type="input"\\} 1$`, "m"));
    expect(text).toMatch(new RegExp(`^gen_ai_client_token_usage_count\\{${otel},gen_ai_token_type="output"\\} 1$`, "m"));

    const value = (name: string, labels: Record<string, string> = {}) =>
      families.get(name)?.metrics.find((metric) => JSON.stringify(metric.labels ?? {}) === JSON.stringify(labels))?.value;
    expect(families.get("llm_requests_total")?.type).toBe("COUNTER");
    expect(value("llm_requests_total", { outcome: "ok" })).toBe("1");
    expect(value("llm_requests_total", { outcome: "error" })).toBe("1");
    expect(value("llm_gate_pool_size")).toBe("2");
    expect(value("llm_gate_in_flight")).toBe("0");
    expect(value("llm_path_total", { path: "new" })).toBe("1");
    expect(families.has("llm_retries_total")).toBe(true);
    expect(families.has("llm_rate_limited_total")).toBe(true);
    expect(text).not.toContain("hunter2");
  });
});

describe("llmMetricsResponse", () => {
  it("answers legacy_mode JSON when no client exists, and when DISABLE_POOL is set", async () => {
    const none = await llmMetricsResponse({});
    expect(none.status).toBe(200);
    expect(none.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(none.body)).toMatchObject({ status: "legacy_mode", warning: expect.any(String) });

    getAsyncLlmClient({ poolSize: 2 });
    process.env.DISABLE_POOL = "true";
    expect(JSON.parse((await llmMetricsResponse({})).body).status).toBe("legacy_mode");
    // A scrape still gets Prometheus text, so the target does not go down during a rollback.
    expect((await llmMetricsResponse({ format: "prometheus" })).body).toMatch(/^llm_gate_enabled 0$/m);
    delete process.env.DISABLE_POOL;
    expect(JSON.parse((await llmMetricsResponse({})).body).poolSize).toBe(2);
  });

  it.each([
    ["?format=prometheus", { format: "prometheus" }, "prometheus"],
    ["?format=prometheus given twice", { format: ["prometheus", "json"] }, "prometheus"],
    ["Accept: text/plain", { accept: "text/plain;version=0.0.4" }, "prometheus"],
    ["a browser's Accept", { accept: "text/html,application/xhtml+xml,*/*;q=0.8" }, "json"],
    ["nothing", {}, "json"],
  ])("answers %s with %s", async (_name, request, expected) => {
    getAsyncLlmClient({ poolSize: 2 });
    const response = await llmMetricsResponse(request);
    if (expected === "prometheus") {
      expect(response.contentType).toMatch(/^text\/plain/);
      expect(response.body).toMatch(/^# HELP /m);
    } else {
      expect(response.contentType).toMatch(/^application\/json/);
      expect(JSON.parse(response.body)).toHaveProperty("poolSize", 2);
    }
  });
});

describe("llmHttpError", () => {
  it("turns the runtime's retryable errors into 503 with Retry-After in whole seconds", () => {
    expect(llmHttpError(new LlmQueueFullError({ maxQueue: 5, retryAfterMs: 1500 }))).toEqual({
      status: 503,
      headers: { "Retry-After": "2" },
      body: { error: { code: "llm_queue_full", message: "LLM queue is full (5 waiting)", retryable: true, retryAfterMs: 1500 } },
    });
    expect(llmHttpError(new LlmTimeoutError({ timeoutMs: 100, retryAfterMs: 10 }))?.headers["Retry-After"]).toBe("1");
  });

  it("leaves everything else alone", () => {
    expect(llmHttpError(new Error("boom"))).toBeUndefined();
    expect(llmHttpError(new LlmAbortedError())).toBeUndefined();
    expect(llmHttpError("a string")).toBeUndefined();
  });
});

describe("handleLlmErrors and /metrics/llm in an Express app", () => {
  async function withApp(test: (url: string) => Promise<void>) {
    const app = express();
    app.get("/metrics/llm", async (req, res) => {
      const metrics = await llmMetricsResponse({ query: req.query, headers: req.headers });
      res.status(metrics.status).type(metrics.contentType).send(metrics.body);
    });
    app.post(
      "/chat",
      handleLlmErrors(async (_req, res) => {
        const sdk = upstream.sdk();
        const completion = await getAsyncLlmClient().run((request) => sdk.chat.completions.create(chat("hi"), request));
        res.json({ reply: completion.choices[0]!.message.content });
      }),
    );
    app.get(
      "/boom",
      handleLlmErrors(async () => {
        throw new Error("not an LLM error");
      }),
    );
    app.get(
      "/sync-full",
      handleLlmErrors(() => {
        throw new LlmQueueFullError({ maxQueue: 1, retryAfterMs: 3000 });
      }),
    );
    app.get(
      "/after-headers",
      handleLlmErrors(async (_req, res) => {
        res.status(200).write("partial");
        throw new LlmTimeoutError({ timeoutMs: 1 });
      }),
    );
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      await test(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it("answers 503 + Retry-After when the queue is full, and serves the rest", async () => {
    upstream.stub().configure({ hang: true });
    getAsyncLlmClient({ poolSize: 1, maxQueue: 0, timeoutMs: 2000 });
    await withApp(async (url) => {
      const holding = fetch(`${url}/chat`, { method: "POST" });
      await until(() => upstream.stub().stats().requests === 1, "the first call upstream");
      const refused = await fetch(`${url}/chat`, { method: "POST" });
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toMatch(/^[1-9][0-9]*$/);
      expect(await refused.json()).toMatchObject({ error: { code: "llm_queue_full", retryable: true } });
      // The held call reaches its deadline: also a 503, not a hang.
      const timedOut = await holding;
      expect(timedOut.status).toBe(503);
      expect((await timedOut.json()).error.code).toBe("llm_timeout");

      const metrics = await fetch(`${url}/metrics/llm`).then((response) => response.json());
      expect(metrics.errorsByType).toMatchObject({ queue_full: 1, timeout: 1 });
      const prometheus = await fetch(`${url}/metrics/llm`, { headers: { accept: "text/plain" } });
      expect(prometheus.headers.get("content-type")).toMatch(/^text\/plain/);
    });
  });

  it("passes other errors to next(), handles synchronous throws, and leaves a started response alone", async () => {
    getAsyncLlmClient({ poolSize: 1 });
    await withApp(async (url) => {
      expect((await fetch(`${url}/boom`)).status).toBe(500);
      const full = await fetch(`${url}/sync-full`);
      expect(full.status).toBe(503);
      expect(full.headers.get("retry-after")).toBe("3");
      const started = await fetch(`${url}/after-headers`);
      expect(started.status).toBe(200);
      // Express ends a response whose headers were sent by cutting the connection.
      await expect(started.text()).rejects.toThrow();
    });
  });
});
