// A second Express server, tried as a new user would: CommonJS JavaScript, a module-level
// `new OpenAI()` exported with module.exports and required by a router module.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiStub, type OpenAiStub } from "../../src/stub/openai-stub.js";
import { copyServer, llmMigrate, removeScratch, snapshotTree, startServer } from "./support.js";

async function ask(url: string, i: number): Promise<{ status: number; json: any }> {
  const response = await fetch(`${url}/api/ask`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-user-id": `user-${i}` },
    body: JSON.stringify({ question: `question ${i}` }),
  });
  return { status: response.status, json: await response.json() };
}

describe("llm-migrate on a CommonJS Express server with a shared OpenAI client", () => {
  let stub: OpenAiStub;
  let dir: string;
  let original: Map<string, Buffer>;

  beforeAll(async () => {
    stub = await startOpenAiStub({ latencyMs: 300 });
    dir = copyServer("express-cjs");
    original = snapshotTree(dir);
    const applied = await llmMigrate("apply", dir, "--json");
    expect(applied.status).toBe(0);
    const report = JSON.parse(applied.stdout);
    expect(report.callSites).toEqual([
      expect.objectContaining({ file: "routes/ask.js", line: 10, state: "rewritten", key: "userId" }),
    ]);
    expect(report.findings).toContainEqual(expect.objectContaining({ code: "CAUGHT_LOCALLY", file: "routes/ask.js", line: 10 }));
  });

  afterAll(async () => {
    await stub?.close();
    if (dir) removeScratch(dir);
  });

  const start = (env: Record<string, string> = {}) =>
    startServer([process.execPath, "server.js"], dir, {
      OPENAI_BASE_URL: stub.url,
      OPENAI_API_KEY: "sk-test-not-a-secret",
      LLM_POOL_SIZE: "3",
      ...env,
    });

  it("serves 9 concurrent users through a pool of 3 and counts them in /metrics/llm", async () => {
    stub.reset();
    const server = await start();
    try {
      const answers = await Promise.all(Array.from({ length: 9 }, (_, i) => ask(server.url, i)));
      expect(answers.map((a) => a.status)).toEqual(Array(9).fill(200));
      expect(answers.map((a) => a.json.answer)).toEqual(Array.from({ length: 9 }, (_, i) => `echo: question ${i}`));
      expect(stub.stats().peakInFlight).toBeLessThanOrEqual(3);
      expect(stub.stats().peakInFlight).toBeGreaterThanOrEqual(2);
      const metrics = await fetch(`${server.url}/metrics/llm`).then((r) => r.json());
      expect(metrics).toMatchObject({ poolSize: 3, requestsTotal: 9, errorsTotal: 0, paths: { new: 9, legacy: 0 } });
    } finally {
      await server.stop();
    }
  });

  it("calls the shared client directly, ungated, with FORCE_LEGACY_LLM=true", async () => {
    stub.reset();
    const server = await start({ FORCE_LEGACY_LLM: "true" });
    try {
      const answers = await Promise.all(Array.from({ length: 9 }, (_, i) => ask(server.url, i)));
      expect(answers.map((a) => a.status)).toEqual(Array(9).fill(200));
      // The original code has no limit: every request reaches the upstream at once.
      expect(stub.stats().peakInFlight).toBe(9);
      const metrics = await fetch(`${server.url}/metrics/llm`).then((r) => r.json());
      expect(metrics.paths).toEqual({ new: 0, legacy: 9 });
    } finally {
      await server.stop();
    }
  });

  it("rolls back every file byte for byte", async () => {
    expect((await llmMigrate("rollback", dir)).status).toBe(0);
    expect(snapshotTree(dir)).toEqual(original);
  });
});
