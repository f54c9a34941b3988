// aiohttp.web end to end: a server whose async handler calls a blocking wrapper is migrated with
// the CLI, run under Debian's Python against the stub upstream, and rolled back.
import { performance } from "node:perf_hooks";
import { expect, it } from "vitest";
import { describeWithAiohttp } from "../debian-python.js";
import { llmMigrate, postJson, snapshotTree, useScratchServer, startServer } from "../e2e/support.js";
import { PYTHON } from "../paths.js";

const nineUsers = Array.from({ length: 9 }, (_, i) => ({ user_id: `user-${i}`, messages: [{ role: "user", content: `question ${i}` }] }));

describeWithAiohttp("llm-migrate on an aiohttp.web server", () => {
  const scratch = useScratchServer("aiohttp");

  const start = (env: Record<string, string> = {}) =>
    startServer([PYTHON, "server.py"], scratch.dir, {
      OPENAI_BASE_URL: scratch.stub.url,
      OPENAI_API_KEY: "sk-test-not-a-secret",
      PYTHONDONTWRITEBYTECODE: "1",
      LLM_POOL_SIZE: "3",
      ...env,
    }, "Running on");

  async function chatConcurrently(url: string, label: string) {
    const started = performance.now();
    const answers = await Promise.all(nineUsers.map((body) => postJson(`${url}/chat`, body)));
    console.log(`aiohttp e2e, ${label}: 9 concurrent chats took ${Math.round(performance.now() - started)} ms`);
    return answers;
  }

  const replies = nineUsers.map((u, i) => ({ user_id: u.user_id, reply: `echo: question ${i}` }));

  it("serves 9 concurrent users one at a time before the migration", async () => {
    scratch.stub.reset();
    const server = await start();
    try {
      expect((await chatConcurrently(server.url, "before")).map((a) => a.json)).toEqual(replies);
      expect(scratch.stub.stats().peakInFlight).toBe(1);
    } finally {
      await server.stop();
    }
  });

  it("migrates it with apply", async () => {
    const applied = await llmMigrate("apply", scratch.dir);
    expect(applied.stderr).toBe("");
    expect(applied.status).toBe(0);
    expect(applied.stdout).toMatch(/rewritten\s+server\.py:\d+\s+llm_client\.generate_response \(canary key: request\.remote\)/);
    expect([...snapshotTree(scratch.dir).keys()]).toContain("llm_api.py");
  });

  it("serves them through a pool of 3 after it, same path and model, with /metrics/llm ahead of the catch-all", async () => {
    scratch.stub.reset();
    const server = await start();
    try {
      expect((await chatConcurrently(server.url, "after, LLM_POOL_SIZE=3")).map((a) => a.json)).toEqual(replies);
      const upstream = scratch.stub.stats();
      expect(upstream.peakInFlight).toBeGreaterThanOrEqual(2);
      expect(upstream.peakInFlight).toBeLessThanOrEqual(3);
      expect(upstream.byEndpoint).toEqual({ "/v1/chat/completions": 9 });
      expect(new Set(upstream.received.map((r) => r.model))).toEqual(new Set(["gpt-4o"]));

      const metrics = await fetch(`${server.url}/metrics/llm`).then((r) => r.json());
      expect(metrics).toMatchObject({ poolSize: 3, inFlight: 0, requestsTotal: 9, errorsTotal: 0, paths: { new: 9, legacy: 0 } });
      const prometheus = await fetch(`${server.url}/metrics/llm?format=prometheus`);
      expect(prometheus.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(await prometheus.text()).toContain('llm_requests_total{outcome="ok"} 9');
    } finally {
      await server.stop();
    }
  });

  it("answers 503 with Retry-After when a call outlives its deadline, and /metrics/llm to the LLM_METRICS_TOKEN bearer only", async () => {
    scratch.stub.reset();
    const server = await start({ LLM_TIMEOUT_MS: "100", LLM_MAX_RETRIES: "0", LLM_METRICS_TOKEN: "metrics-token-for-tests" });
    try {
      expect((await fetch(`${server.url}/metrics/llm`)).status).toBe(401);
      const authorized = await fetch(`${server.url}/metrics/llm`, { headers: { authorization: "Bearer metrics-token-for-tests" } });
      expect(authorized.status).toBe(200);
      const response = await fetch(`${server.url}/chat`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(nineUsers[0]) });
      expect(response.status).toBe(503);
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect((await response.json()).error).toMatchObject({ code: "llm_timeout", retryable: true });
    } finally {
      await server.stop();
    }
  });

  it("rolls back every file byte for byte", async () => {
    expect((await llmMigrate("rollback", scratch.dir)).status).toBe(0);
    expect(snapshotTree(scratch.dir)).toEqual(scratch.original);
  });
});
