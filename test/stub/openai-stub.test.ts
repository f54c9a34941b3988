// The OpenAI-compatible stub: real SDK shapes (plain and streamed), its faults, its counts,
// its HTTP control surface and its command-line entry.
import { execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import OpenAI, { InternalServerError, RateLimitError } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startOpenAiStub, type OpenAiStub } from "../../src/stub/openai-stub.js";

let stub: OpenAiStub;
let sdk: OpenAI;

beforeAll(async () => {
  stub = await startOpenAiStub();
  sdk = new OpenAI({ baseURL: stub.url, apiKey: "sk-test-not-a-secret", maxRetries: 0 });
});
afterAll(() => stub.close());
beforeEach(() => stub.reset());

const question = (text: string) => ({ model: "gpt-4o-mini", messages: [{ role: "user" as const, content: text }] });

describe("answers in the real API's shapes", () => {
  it("serves chat completions", async () => {
    const completion = await sdk.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "first" },
        { role: "assistant", content: "ok" },
        { role: "user", content: [{ type: "text", text: "last question" }] },
      ],
    });
    expect(completion).toMatchObject({
      object: "chat.completion",
      model: "gpt-4o-mini",
      choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "echo: last question" } }],
    });
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
  });

  it("streams chat completions as SSE chunks ending in [DONE]", async () => {
    const stream = await sdk.chat.completions.create({ ...question("stream this answer"), stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe("echo: stream this answer");
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
  });

  it("serves the Responses API, input as a string or as messages", async () => {
    const fromString = await sdk.responses.create({ model: "gpt-4o-mini", input: "a string input" });
    expect(fromString.output_text).toBe("echo: a string input");
    expect(fromString).toMatchObject({ object: "response", status: "completed" });
    const fromMessages = await sdk.responses.create({
      model: "gpt-4o-mini",
      input: [{ role: "user", content: [{ type: "input_text", text: "as parts" }] }],
    });
    expect(fromMessages.output_text).toBe("echo: as parts");
  });

  it("streams Responses API events", async () => {
    const stream = await sdk.responses.create({ model: "gpt-4o-mini", input: "streamed response", stream: true });
    const types: string[] = [];
    let text = "";
    let completedText = "";
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.completed") {
        const [message] = event.response.output;
        if (message?.type === "message" && message.content[0]?.type === "output_text") completedText = message.content[0].text;
      }
    }
    expect(text).toBe("echo: streamed response");
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(completedText).toBe("echo: streamed response");
  });

  it("serves the legacy example's curl call to ${OPENAI_BASE_URL}/chat/completions", async () => {
    const { stdout } = await promisify(execFile)("curl", [
      "--silent",
      "--fail",
      "-H",
      "content-type: application/json",
      "--data-binary",
      JSON.stringify(question("from curl")),
      `${stub.url}/chat/completions`,
    ]);
    expect(JSON.parse(stdout).choices[0].message.content).toBe("echo: from curl");
  });

  it("answers unknown routes with 404 and bad JSON with 400, in the API's error shape", async () => {
    const missing = await fetch(`${stub.url}/embeddings`, { method: "POST", body: "{}" });
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.type).toBe("invalid_request_error");
    expect((await fetch(`${stub.url}/responses`, { method: "POST", body: "{" })).status).toBe(400);
  });
});

describe("faults", () => {
  it("answers 429 with retry-after-ms and retry-after beyond its concurrency limit", async () => {
    stub.configure({ concurrencyLimit: 2, latencyMs: 100, retryAfterMs: 1500 });
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, (_, i) => sdk.chat.completions.create(question(`q${i}`)).catch((err) => err)),
    );
    const limited = outcomes.filter((outcome) => outcome instanceof RateLimitError);
    expect(limited).toHaveLength(2);
    expect(limited[0].headers.get("retry-after-ms")).toBe("1500");
    expect(limited[0].headers.get("retry-after")).toBe("2");
    expect(limited[0].code).toBe("rate_limit_exceeded");
    expect(stub.stats()).toMatchObject({ requests: 4, peakInFlight: 2, inFlight: 0, byStatus: { "200": 2, "429": 2 } });
  });

  it("answers 429 once the tokens of its window are spent, with the time until they fit again, and serves again after it", async () => {
    // "one two three": 3 input tokens and "echo: one two three" 4 output tokens, 7 a call; 20 a window of 400 ms.
    stub.configure({ tokensPerMinute: 20, tokenWindowMs: 400, rateLimitHeaders: true });
    const ask = () => sdk.chat.completions.create(question("one two three")).withResponse();
    const first = await ask();
    expect(first.response.headers.get("x-ratelimit-limit-tokens")).toBe("20");
    expect(first.response.headers.get("x-ratelimit-remaining-tokens")).toBe("13");
    await ask();
    const limited = await ask().catch((err) => err);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited.code).toBe("rate_limit_exceeded");
    expect(limited.error).toMatchObject({ type: "tokens" });
    const retryAfterMs = Number(limited.headers.get("retry-after-ms"));
    // The first call's tokens leave the window first: waiting that long makes room for one more.
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(400);
    expect(limited.headers.get("retry-after")).toBe("1");
    expect(limited.headers.get("x-ratelimit-remaining-tokens")).toBe("6");
    expect(Number(limited.headers.get("x-ratelimit-reset-tokens")?.replace(/ms$/, ""))).toBeLessThanOrEqual(400);
    expect(stub.stats().byStatus).toEqual({ "200": 2, "429": 1 });

    await new Promise((resolve) => setTimeout(resolve, retryAfterMs + 5));
    expect((await ask()).data.choices[0]?.message.content).toBe("echo: one two three");
  });

  it("makes calls beyond its serving limit wait their turn instead of refusing them (a congested upstream)", async () => {
    stub.configure({ servingLimit: 1, latencyMs: 30 });
    const started = performance.now();
    const finished: number[] = [];
    const answers = await Promise.all(
      Array.from({ length: 3 }, (_, i) => sdk.chat.completions.create(question(`q${i}`)).then((answer) => (finished.push(performance.now() - started), answer))),
    );
    expect(answers.map((answer) => answer.choices[0]?.message.content)).toEqual(["echo: q0", "echo: q1", "echo: q2"]);
    expect(stub.stats()).toMatchObject({ peakInFlight: 3, inFlight: 0, byStatus: { "200": 3 } });
    // Worked on one at a time for 30 ms each: the last answer cannot come before three turns (a lower bound, not a speed check).
    expect(Math.max(...finished)).toBeGreaterThanOrEqual(3 * 30 - 1);
  });

  it("fails the next N requests with a 5xx, then recovers", async () => {
    stub.configure({ failNext: 2, failStatus: 503 });
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await sdk.chat.completions.create(question("x")).catch((err) => err));
    expect(outcomes[0]).toBeInstanceOf(InternalServerError);
    expect(outcomes[0].status).toBe(503);
    expect(outcomes[1].status).toBe(503);
    expect(outcomes[2].choices[0].message.content).toBe("echo: x");
  });

  it("answers insufficient_quota as the API does, and rate limits on demand", async () => {
    stub.configure({ insufficientQuotaNext: 1, rateLimitNext: 1 });
    const quota = await sdk.responses.create({ model: "m", input: "x" }).catch((err) => err);
    expect(quota).toMatchObject({ status: 429, code: "insufficient_quota", type: "insufficient_quota" });
    expect(quota.headers.get("retry-after-ms")).toBeNull();
    const limited = await sdk.responses.create({ model: "m", input: "x" }).catch((err) => err);
    expect(limited).toMatchObject({ status: 429, code: "rate_limit_exceeded" });
    expect(limited.headers.get("retry-after-ms")).toBe("200");
  });

  it("hangs when asked, counting the request in flight until the client gives up", async () => {
    stub.configure({ hang: true });
    const caller = new AbortController();
    const hung = sdk.chat.completions.create(question("hang"), { signal: caller.signal }).catch((err) => err);
    while (stub.stats().inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(stub.stats()).toMatchObject({ inFlight: 1, requests: 1 });
    caller.abort();
    await hung;
    while (stub.stats().inFlight !== 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(stub.stats().received[0]).toMatchObject({ text: "hang", status: 0 });
  });

  it("closes even while requests hang", async () => {
    const own = await startOpenAiStub({ hang: true });
    const client = new OpenAI({ baseURL: own.url, apiKey: "x", maxRetries: 0 });
    const hung = client.chat.completions.create(question("forever")).catch((err) => err);
    while (own.stats().inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await own.close();
    expect((await hung).constructor.name).toBe("APIConnectionError");
  });
});

describe("counts and control", () => {
  it("counts requests by endpoint and status, and records arrival order", async () => {
    await sdk.chat.completions.create(question("a"));
    await sdk.responses.create({ model: "gpt-4o-mini", input: "b" });
    await sdk.responses.create({ model: "gpt-4o-mini", input: "c", stream: true });
    expect(stub.stats()).toMatchObject({
      requests: 3,
      inFlight: 0,
      peakInFlight: 1,
      byEndpoint: { "/v1/chat/completions": 1, "/v1/responses": 2 },
      byStatus: { "200": 3 },
    });
    expect(stub.stats().received.map((request) => [request.text, request.stream])).toEqual([
      ["a", false],
      ["b", false],
      ["c", true],
    ]);
  });

  it("is driven over HTTP by other processes: /_stub/stats, /_stub/config, /_stub/reset", async () => {
    const base = stub.url.replace(/\/v1$/, "");
    const configured = await fetch(`${base}/_stub/config`, {
      method: "POST",
      body: JSON.stringify({ failNext: 1, failStatus: 502 }),
    }).then((response) => response.json());
    expect(configured).toMatchObject({ failNext: 1, failStatus: 502 });
    expect(await sdk.chat.completions.create(question("x")).catch((err) => err.status)).toBe(502);
    const stats = await fetch(`${base}/_stub/stats`).then((response) => response.json());
    expect(stats).toMatchObject({ requests: 1, byStatus: { "502": 1 } });
    await fetch(`${base}/_stub/reset`, { method: "POST" });
    expect(stub.stats().requests).toBe(0);
  });

  it("reset restores the options it was started with", async () => {
    const own = await startOpenAiStub({ latencyMs: 1, concurrencyLimit: 1 });
    own.configure({ concurrencyLimit: 5, hang: true });
    own.reset();
    const base = own.url.replace(/\/v1$/, "");
    const options = await fetch(`${base}/_stub/config`, { method: "POST", body: "{}" }).then((response) => response.json());
    expect(options).toMatchObject({ latencyMs: 1, concurrencyLimit: 1, hang: false });
    await own.close();
  });
});

describe("the command-line entry", () => {
  it("prints its URL once ready and serves the SDK", async () => {
    const cli = fileURLToPath(new URL("../../src/stub/cli.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", cli, "--port", "0", "--latency", "5", "--concurrency-limit", "3"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes("\n")) resolve(output.trim());
        });
        child.once("exit", (code) => reject(new Error(`stub exited with ${code}: ${output}`)));
      });
      expect(line).toMatch(/^openai-stub listening on http:\/\/127\.0\.0\.1:\d+\/v1$/);
      const url = line.replace("openai-stub listening on ", "");
      const client = new OpenAI({ baseURL: url, apiKey: "x", maxRetries: 0 });
      expect((await client.responses.create({ model: "m", input: "over the wire" })).output_text).toBe("echo: over the wire");
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  });
});
