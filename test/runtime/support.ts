// Shared helpers of the runtime tests: a stub upstream, the real SDK pointed at it, env that is put back.
import { createServer } from "node:net";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { resetAsyncLlmClientForTests } from "../../runtime/client.js";
import { reloadLlmSwitches } from "../../runtime/flags.js";
import { startOpenAiStub, type OpenAiStub } from "../../src/stub/openai-stub.js";

/** The runtime's settings and switches: every variable it reads (LLM_*, OPENAI_*, the three switches). */
const isRuntimeVariable = (name: string): boolean => /^(LLM_(?!MIGRATE_)|OPENAI_)/.test(name) || ["FORCE_LEGACY_LLM", "DISABLE_POOL", "EMERGENCY_MODE"].includes(name);
const runtimeVariables = (): string[] => Object.keys(process.env).filter(isRuntimeVariable);

/** One stub for the file, reset before each test; a fresh runtime singleton and clean env per test. */
export function useStubUpstream(): { stub: () => OpenAiStub; sdk: () => OpenAI } {
  let stub: OpenAiStub | undefined;
  let sdk: OpenAI | undefined;
  const saved = new Map(runtimeVariables().map((name) => [name, process.env[name]]));
  beforeAll(async () => {
    stub = await startOpenAiStub();
    // The SDK's default maxRetries (2) stays: run() must turn it off per request.
    sdk = new OpenAI({ baseURL: stub.url, apiKey: "sk-test-not-a-secret" });
  });
  afterAll(async () => {
    await stub?.close();
  });
  beforeEach(() => {
    for (const name of runtimeVariables()) delete process.env[name];
    stub?.reset();
    resetAsyncLlmClientForTests();
  });
  afterEach(() => {
    resetAsyncLlmClientForTests();
    // Whatever a test set, back to what the file started with.
    for (const name of runtimeVariables()) if (!saved.has(name)) delete process.env[name];
    for (const [name, value] of saved) process.env[name] = value;
  });
  return { stub: () => stub!, sdk: () => sdk! };
}

/**
 * Flip a switch (DISABLE_POOL, FORCE_LEGACY_LLM, EMERGENCY_MODE, LLM_CANARY_PERCENT) and have the
 * next call see it at once, as code flipping process.env would with reloadLlmSwitches; without
 * it, a flip is seen within SWITCH_REFRESH_MS (flags.test.ts shows that).
 */
export function setSwitch(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  reloadLlmSwitches();
}

/** Polls until `condition` holds (a wait for an event, not a speed check). */
export async function until(condition: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const giveUpAt = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function chat(text: string) {
  return { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: text }] };
}

/** A loopback port nobody listens on (it was free a moment ago). */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
