// Which URLs make a blocking HTTP post an LLM call: the SDK table's hosts and paths, Ollama's
// generic paths only where the host is Ollama's (or not in the code), nothing a full URL sends elsewhere.
import { describe, expect, it } from "vitest";
import { isLlmApiUrl } from "../../src/languages/python/sdk-table.js";
import { UNKNOWN } from "../../src/languages/python/string-value.js";

describe("isLlmApiUrl", () => {
  it.each([
    "https://api.openai.com/v1/chat/completions",
    "https://my-team.openai.azure.com/openai/deployments/gpt/chat/completions?api-version=1",
    "https://api.anthropic.com/v1/messages",
    "http://127.0.0.1:8080/v1/chat/completions",
    `${UNKNOWN}/chat/completions`,
    "http://ollama:11434/api/generate",
    "http://localhost:11434",
    `${UNKNOWN}/api/chat`,
    `http://${UNKNOWN}/api/generate`,
    "https://generativelanguage.googleapis.com/v1beta/models/gemini-pro:generateContent",
  ])("%s is an LLM API", (url) => {
    expect(isLlmApiUrl(url)).toBe(true);
  });

  it.each([
    "http://api:8000/generate",
    "http://backend:8000/api/chat",
    "https://hooks.slack.com/services/T000",
    "http://summariser.internal/run",
    UNKNOWN,
    `${UNKNOWN}/generate`,
  ])("%s is not", (url) => {
    expect(isLlmApiUrl(url)).toBe(false);
  });
});
