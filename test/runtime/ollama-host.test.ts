// A migrated `ollama run` must reach the server the ollama CLI would: OLLAMA_HOST read as Ollama
// reads it (envconfig.Host), then its OpenAI-compatible API under /v1.
import { describe, expect, it } from "vitest";
import { extractOutputText, getAsyncLlmClient, ollamaBaseUrl } from "../../runtime/index.js";
import { useStubUpstream } from "./support.js";

describe("ollamaBaseUrl", () => {
  it.each([
    [undefined, "http://127.0.0.1:11434/v1"],
    ["", "http://127.0.0.1:11434/v1"],
    ["0.0.0.0", "http://127.0.0.1:11434/v1"],
    ["0.0.0.0:11500", "http://127.0.0.1:11500/v1"],
    [":11500", "http://127.0.0.1:11500/v1"],
    ["gpu-box", "http://gpu-box:11434/v1"],
    ["gpu-box:8080", "http://gpu-box:8080/v1"],
    ['"gpu-box:8080"', "http://gpu-box:8080/v1"],
    ["http://gpu-box", "http://gpu-box:80/v1"],
    ["https://gpu-box", "https://gpu-box:443/v1"],
    ["https://gpu-box:8443/ollama/", "https://gpu-box:8443/ollama/v1"],
    ["10.0.0.7", "http://10.0.0.7:11434/v1"],
    ["[::1]:11500", "http://[::1]:11500/v1"],
    ["::1", "http://[::1]:11434/v1"],
    ["[::]", "http://[::1]:11434/v1"],
    ["gpu-box:port", "http://gpu-box:11434/v1"],
    ["ollama.com", "https://ollama.com:443/v1"],
  ])("OLLAMA_HOST=%j: %s", (value, expected) => {
    expect(ollamaBaseUrl(value === undefined ? {} : { OLLAMA_HOST: value })).toBe(expected);
  });
});

describe("a migrated `ollama run` (the new path apply writes)", () => {
  const upstream = useStubUpstream();

  it("reaches the server OLLAMA_HOST names, with the same model", async () => {
    const { host } = new URL(upstream.stub().url);
    const baseURL = ollamaBaseUrl({ OLLAMA_HOST: host });
    const reply = await getAsyncLlmClient().generateResponseAsync("hello", { model: "llama3", api: "chat", baseURL });
    expect(extractOutputText(reply)).toBe("echo: hello");
    expect(upstream.stub().stats().received).toMatchObject([{ endpoint: "/v1/chat/completions", model: "llama3", text: "hello" }]);
  });
});
