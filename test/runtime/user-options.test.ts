// Options the user wrote on a gated SDK call keep their values on the new path (runtime/user-options.ts).
import { describe, expect, it } from "vitest";
import { gateLlmCall, getAsyncLlmClient, getPathCounts, LlmTimeoutError, runLlmCall } from "../../runtime/index.js";
import { chat, useStubUpstream } from "./support.js";

describe("gateLlmCall with the options the user wrote", () => {
  const { stub, sdk } = useStubUpstream();

  // Seen: a call that passed { timeout: 500000 } got the runtime's 60 s.
  it("keeps the user's timeout, also as the call's deadline in place of LLM_TIMEOUT_MS", async () => {
    process.env.LLM_TIMEOUT_MS = "50";
    getAsyncLlmClient({ poolSize: 2, canaryPercent: 100 });
    stub().configure({ latencyMs: 250 });
    const kept = await gateLlmCall({ key: "u1", options: { timeout: 5000 } }, (options) => sdk().chat.completions.create(chat("long report"), options));
    expect(kept.choices[0]?.message.content).toBeTruthy();
    await expect(gateLlmCall({ key: "u1" }, (options) => sdk().chat.completions.create(chat("long report"), options))).rejects.toBeInstanceOf(LlmTimeoutError);
  });

  // The new branch of a queued call's conditional (`useNewLlmPath() ? runLlmCall(…) : limit(() => call)`).
  it("keeps them the same way in runLlmCall, which draws no canary of its own", async () => {
    process.env.LLM_TIMEOUT_MS = "50";
    getAsyncLlmClient({ poolSize: 2, canaryPercent: 100 });
    stub().configure({ latencyMs: 250 });
    const before = getPathCounts();
    const kept = await runLlmCall({ key: "u1", options: { timeout: 5000 } }, (options) => sdk().chat.completions.create(chat("long report"), options));
    expect(kept.choices[0]?.message.content).toBeTruthy();
    expect(getPathCounts()).toEqual(before);
    await expect(runLlmCall({ key: "u1" }, (options) => sdk().chat.completions.create(chat("long report"), options))).rejects.toBeInstanceOf(LlmTimeoutError);
  });

  it("passes every user option on, and either signal aborts the call", async () => {
    getAsyncLlmClient({ poolSize: 2, canaryPercent: 100 });
    const user = new AbortController();
    let seen: Record<string, unknown> | undefined;
    const call = gateLlmCall({ key: "u1", options: { timeout: 5000, maxRetries: 1, headers: { "X-Team": "reports" }, signal: user.signal } }, (options) => {
      seen = options as Record<string, unknown>;
      return new Promise((_resolve, reject) => (options as { signal: AbortSignal }).signal.addEventListener("abort", () => reject(new Error("aborted"))));
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toMatchObject({ timeout: 5000, maxRetries: 1, headers: { "X-Team": "reports" } });
    expect(seen!["signal"]).not.toBe(user.signal);
    user.abort();
    await expect(call).rejects.toThrow();
  });

  it("hands the legacy path the user's options object itself: the original call", async () => {
    process.env.FORCE_LEGACY_LLM = "true";
    const options = { timeout: 500000 };
    let seen: unknown;
    await gateLlmCall({ key: "u1", options }, (given) => (seen = given));
    expect(seen).toBe(options);
  });
});
