// A wrapper's call goes, on the new path, to what the wrapper calls: its base URL, key, model and
// API as read from its code (end to end: wrappers-e2e.test.ts). Unreadable: left with a reason.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectedTree, FIXTURES, migrateTree, readTree } from "../transforms/helpers.js";

const gate = ["gate-call-sites"];

describe("wrapper targets", () => {
  // Seen: a wrapper that read LLM_BASE_URL and called chat completions became a Responses call to OPENAI_BASE_URL.
  it("calls the wrapper's chat completions endpoint, model and key from the new path", () => {
    const server = expectedTree(join(FIXTURES, "gate-call-sites/wrapper-llm-base-url-chat")).get("src/server.ts")!;
    expect(server).toContain(
      'generateResponseAsync(String(req.body.message), { model: process.env.LLM_MODEL ?? "qwen2.5-7b-instruct", api: "chat", baseURL: process.env.LLM_BASE_URL ?? "http://localhost:8080/v1", apiKey: process.env.LLM_API_KEY })',
    );
  });

  it("reads an SDK wrapper's client options", () => {
    const server = expectedTree(join(FIXTURES, "gate-call-sites/wrapper-sdk-base-url")).get("src/server.ts")!;
    expect(server).toContain('{ model: "llama-3.1-8b-instruct", api: "chat", baseURL: process.env.LLM_BASE_URL, apiKey: process.env.LLM_API_KEY ?? "none" }');
  });

  it("leaves the call, with a reason, when the endpoint comes from outside the wrapper", async () => {
    const input = readTree(join(FIXTURES, "gate-call-sites/wrapper-target-unknown/input"));
    const { outcome, sources } = await migrateTree(input, gate);
    expect(outcome.callSites).toMatchObject([{ file: "src/server.ts", callee: "llm.generateResponse", state: "left", reason: "WRAPPER_TARGET_UNKNOWN" }]);
    for (const [path, text] of sources) expect(text, path).toBe(input.get(path));
  });
});
