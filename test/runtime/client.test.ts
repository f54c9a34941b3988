// The process-wide client: one per process, settings from options and environment,
// generateResponseAsync on its own SDK instance, and extractOutputText over every response shape.
import OpenAI from "openai";
import { describe, expect, it, vi } from "vitest";
import { extractOutputText, getAsyncLlmClient } from "../../runtime/index.js";
import { chat, useStubUpstream } from "./support.js";

const upstream = useStubUpstream();

describe("getAsyncLlmClient", () => {
  it("returns one client per process; the first settings win and a different later call warns once", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      const first = getAsyncLlmClient({ poolSize: 4, canaryPercent: 100 });
      expect(getAsyncLlmClient()).toBe(first);
      expect(getAsyncLlmClient(4)).toBe(first);
      expect(getAsyncLlmClient({ poolSize: 4 })).toBe(first);
      expect(warn).not.toHaveBeenCalled();

      expect(getAsyncLlmClient({ poolSize: 8 })).toBe(first);
      expect(getAsyncLlmClient({ maxQueue: 3 })).toBe(first);
      expect(first.poolSize).toBe(4);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/first call's settings/);
    } finally {
      warn.mockRestore();
    }
  });

  it("lets LLM_POOL_SIZE and LLM_MAX_QUEUE override the defaults written in code", () => {
    process.env.LLM_POOL_SIZE = "3";
    process.env.LLM_MAX_QUEUE = "7";
    const metrics = getAsyncLlmClient({ poolSize: 10, maxQueue: 100 }).getMetrics();
    expect(metrics).toMatchObject({ poolSize: 3, maxQueue: 7 });
  });

  it("skips settings that make no sense", () => {
    process.env.LLM_POOL_SIZE = "lots";
    process.env.LLM_TIMEOUT_MS = "-5";
    const metrics = getAsyncLlmClient({ poolSize: 6, maxQueue: Number.NaN }).getMetrics();
    expect(metrics).toMatchObject({ poolSize: 6, maxQueue: 1000 });
  });

  it("is made from the environment when first asked for without settings", () => {
    process.env.LLM_POOL_SIZE = "5";
    expect(getAsyncLlmClient().poolSize).toBe(5);
  });
});

describe("generateResponseAsync", () => {
  it("calls the Responses API through OPENAI_BASE_URL with no API key set, and its text reads back", async () => {
    process.env.OPENAI_BASE_URL = upstream.stub().url;
    const client = getAsyncLlmClient({ poolSize: 2 });
    const response = await client.generateResponseAsync([
      { role: "system", content: "be brief" },
      { role: "user", content: "hello there" },
    ]);
    expect(extractOutputText(response)).toBe("echo: hello there");
    expect(upstream.stub().stats().received).toMatchObject([{ endpoint: "/v1/responses", model: "gpt-4o-mini" }]);
  });

  it("uses chat completions on request, LLM_MODEL, and a model option before it", async () => {
    process.env.OPENAI_BASE_URL = upstream.stub().url;
    process.env.LLM_MODEL = "model-from-env";
    const client = getAsyncLlmClient({ poolSize: 2, api: "chat" });
    expect(extractOutputText(await client.generateResponseAsync("plain string"))).toBe("echo: plain string");
    expect(extractOutputText(await client.generateResponseAsync("other", { model: "model-asked", api: "responses" }))).toBe(
      "echo: other",
    );
    expect(upstream.stub().stats().received.map((request) => [request.endpoint, request.model])).toEqual([
      ["/v1/chat/completions", "model-from-env"],
      ["/v1/responses", "model-asked"],
    ]);
  });

  it("reuses an OpenAI instance it is given, with that instance's baseURL", async () => {
    process.env.OPENAI_BASE_URL = "http://127.0.0.1:9/v1";
    const own = new OpenAI({ baseURL: upstream.stub().url, apiKey: "sk-test-not-a-secret" });
    const client = getAsyncLlmClient({ poolSize: 1, openai: own, model: "configured-model" });
    expect(extractOutputText(await client.generateResponseAsync("via my client"))).toBe("echo: via my client");
    expect(upstream.stub().stats().received[0]!.model).toBe("configured-model");
  });
});

describe("extractOutputText", () => {
  it("reads a Responses API response as the SDK returns it", async () => {
    const response = await upstream.sdk().responses.create({ model: "gpt-4o-mini", input: "sdk shape" });
    expect(extractOutputText(response)).toBe("echo: sdk shape");
  });

  it("reads a raw Responses JSON body (no output_text) from its output items", async () => {
    const raw = await fetch(`${upstream.stub().url}/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", input: [{ role: "user", content: [{ type: "input_text", text: "raw" }] }] }),
    }).then((response) => response.json());
    expect(raw.output_text).toBeUndefined();
    expect(extractOutputText(raw)).toBe("echo: raw");
  });

  it("reads a chat completion (v4+)", async () => {
    expect(extractOutputText(await upstream.sdk().chat.completions.create(chat("chat shape")))).toBe("echo: chat shape");
  });

  it.each([
    ["a v3 (axios) response", { data: { choices: [{ message: { role: "assistant", content: "v3 text" } }] } }, "v3 text"],
    ["a legacy completion", { choices: [{ text: "completion text" }] }, "completion text"],
    ["chat content parts", { choices: [{ message: { content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] } }] }, "ab"],
    ["a stream chunk", { choices: [{ delta: { content: "piece" } }] }, "piece"],
    ["a string", "already text", "already text"],
    ["null", null, ""],
    ["an empty chat completion", { choices: [] }, ""],
    ["a null message content", { choices: [{ message: { content: null } }] }, ""],
  ])("reads %s", (_name, response, expected) => {
    expect(extractOutputText(response)).toBe(expected);
  });
});
