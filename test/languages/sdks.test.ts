import { describe, expect, it } from "vitest";
import { SDKS, optionsFormOf, sdkPackageNames } from "../../src/languages/sdks.js";

describe("the SDK table", () => {
  it("has one row per id, each with packages and a way to reach the network", () => {
    expect(new Set(SDKS.map((row) => row.id)).size).toBe(SDKS.length);
    for (const row of SDKS) {
      expect(row.packages.length, row.id).toBeGreaterThan(0);
      const callCount = row.calls.length + (row.derived ?? []).reduce((n, d) => n + d.calls.length, 0);
      expect(callCount, row.id).toBeGreaterThan(0);
      // A general HTTP client's calls are found by their URL, not by a client.
      expect(row.clientClasses.length + (row.clientExports?.length ?? 0) + (row.freeFunctions || row.generalHttp ? 1 : 0), row.id).toBeGreaterThan(0);
    }
  });

  it("says how each TypeScript call takes the runtime's options", () => {
    for (const row of SDKS.filter((r) => r.language === "typescript")) {
      for (const call of row.calls) {
        const form = optionsFormOf(row, call);
        if (form.fields === "whole" || form.fields === "none") continue;
        for (const value of Object.values(form.fields)) expect(value, `${row.id} ${call.path}`).toMatch(/\$\.(signal|timeout|maxRetries)/);
      }
    }
  });

  it("covers the SDKs the issue lists", () => {
    expect(sdkPackageNames("typescript")).toEqual(
      expect.arrayContaining(["openai", "@azure/openai", "@anthropic-ai/sdk", "@google/genai", "@google/generative-ai", "ollama", "groq-sdk", "@mistralai/mistralai", "@langchain/openai", "ai"]),
    );
    expect(sdkPackageNames("python")).toEqual(expect.arrayContaining(["openai", "anthropic", "requests", "httpx", "llama_cpp", "transformers"]));
  });
});
