// The walking skeleton, end to end: migrate a copy of the bundled legacy Express server, run it
// against the stub upstream, and roll it back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiStub, type OpenAiStub } from "../../src/stub/openai-stub.js";
import { copyServer, llmMigrate, postJson, removeScratch, snapshotTree, startServer } from "./support.js";

const nineUsers = Array.from({ length: 9 }, (_, i) => ({
  userId: `user-${i}`,
  messages: [{ role: "user", content: `question ${i}` }],
}));

describe("llm-migrate on the bundled legacy Express server", () => {
  let stub: OpenAiStub;
  let dir: string;
  let original: Map<string, Buffer>;

  beforeAll(async () => {
    stub = await startOpenAiStub({ latencyMs: 300 });
    dir = copyServer("express-ts");
    original = snapshotTree(dir);
    const applied = await llmMigrate("apply", dir);
    expect(applied.stderr).toBe("");
    expect(applied.status).toBe(0);
  });

  afterAll(async () => {
    await stub?.close();
    if (dir) removeScratch(dir);
  });

  const start = (env: Record<string, string> = {}) =>
    startServer([process.execPath, "--import", "tsx", "src/server.ts"], dir, {
      OPENAI_BASE_URL: stub.url,
      OPENAI_API_KEY: "sk-test-not-a-secret",
      LLM_POOL_SIZE: "3",
      ...env,
    });

  it("serves 9 concurrent users through a pool of 3", async () => {
    stub.reset();
    const server = await start();
    try {
      const answers = await Promise.all(nineUsers.map((body) => postJson(`${server.url}/chat`, body)));
      expect(answers.map((a) => a.status)).toEqual(Array(9).fill(200));
      expect(answers.map((a) => a.json.reply)).toEqual(nineUsers.map((_, i) => `echo: question ${i}`));
      const upstream = stub.stats();
      expect(upstream.peakInFlight).toBeLessThanOrEqual(3);
      expect(upstream.peakInFlight).toBeGreaterThanOrEqual(2);

      const metrics = await fetch(`${server.url}/metrics/llm`).then((r) => r.json());
      expect(metrics).toMatchObject({
        poolSize: 3,
        inFlight: 0,
        queued: 0,
        requestsTotal: 9,
        errorsTotal: 0,
        errorRate: 0,
        paths: { new: 9, legacy: 0 },
      });
      for (const key of ["rps", "rateLimitedTotal", "retriesTotal"]) expect(metrics).toHaveProperty(key);
      expect(Object.keys(metrics.latencyMs).sort()).toEqual(["avg", "p50", "p95", "p99"]);
      expect(JSON.stringify(metrics)).not.toContain("question");

      const prometheus = await fetch(`${server.url}/metrics/llm?format=prometheus`);
      expect(prometheus.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(await prometheus.text()).toMatch(/^# (HELP|TYPE) /m);
    } finally {
      await server.stop();
    }
  });

  it.each([
    ["FORCE_LEGACY_LLM=true", { FORCE_LEGACY_LLM: "true" }],
    ["LLM_CANARY_PERCENT=0", { LLM_CANARY_PERCENT: "0" }],
  ])("takes the original blocking path with %s", async (_name, env) => {
    stub.reset();
    const server = await start(env);
    try {
      const answers = await Promise.all(nineUsers.slice(0, 3).map((body) => postJson(`${server.url}/chat`, body)));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      const upstream = stub.stats();
      // The legacy client shells out to curl, one call at a time, against chat completions.
      expect(upstream.peakInFlight).toBe(1);
      expect(upstream.byEndpoint["/v1/chat/completions"]).toBe(3);
      const metrics = await fetch(`${server.url}/metrics/llm`).then((r) => r.json());
      expect(metrics.paths).toEqual({ new: 0, legacy: 3 });
    } finally {
      await server.stop();
    }
  });

  it("answers legacy_mode on /metrics/llm with DISABLE_POOL=true, to the LLM_METRICS_TOKEN bearer only", async () => {
    const server = await start({ DISABLE_POOL: "true", LLM_METRICS_TOKEN: "metrics-token-for-tests" });
    try {
      expect((await fetch(`${server.url}/metrics/llm`)).status).toBe(401);
      const authorized = { headers: { authorization: "Bearer metrics-token-for-tests" } };
      const metrics = await fetch(`${server.url}/metrics/llm`, authorized).then((r) => r.json());
      expect(metrics.status).toBe("legacy_mode");
      expect(typeof metrics.warning).toBe("string");
    } finally {
      await server.stop();
    }
  });

  it("says already migrated on a second apply and changes nothing", async () => {
    const before = snapshotTree(dir);
    const again = await llmMigrate("apply", dir);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/already migrated/i);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it("rolls back every file byte for byte", async () => {
    const rolledBack = await llmMigrate("rollback", dir);
    expect(rolledBack.status).toBe(0);
    expect(snapshotTree(dir)).toEqual(original);
  });
});
