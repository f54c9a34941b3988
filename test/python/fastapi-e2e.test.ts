// The FastAPI side end to end: migrate a copy of the bundled legacy FastAPI server with the CLI,
// run it under real uvicorn (Debian's Python) against the stub upstream, and roll it back.
import { performance } from "node:perf_hooks";
import { expect, it } from "vitest";
import { llmMigrate, postJson, snapshotTree, useScratchServer } from "../e2e/support.js";
import { startUvicorn } from "./uvicorn.js";
import { describeWithFastapi } from "../debian-python.js";

const nineUsers = Array.from({ length: 9 }, (_, i) => ({
  user_id: `user-${i}`,
  messages: [{ role: "user", content: `question ${i}` }],
}));

describeWithFastapi("llm-migrate on the bundled legacy FastAPI server", () => {
  const scratch = useScratchServer("fastapi");

  const start = (env: Record<string, string> = {}) => startUvicorn("app.main:app", scratch.dir, scratch.stub.url, env);

  /** Nine users at once; the wall time goes to the log for the report, never into an assertion. */
  async function chatConcurrently(url: string, label: string) {
    const started = performance.now();
    const answers = await Promise.all(nineUsers.map((body) => postJson(`${url}/chat`, body)));
    console.log(`fastapi e2e, ${label}: 9 concurrent chats took ${Math.round(performance.now() - started)} ms`);
    return answers;
  }

  it("serves 9 concurrent users one at a time before the migration", async () => {
    scratch.stub.reset();
    const server = await start();
    try {
      const answers = await chatConcurrently(server.url, "before");
      expect(answers.map((a) => a.json)).toEqual(nineUsers.map((u, i) => ({ user_id: u.user_id, reply: `echo: question ${i}` })));
      expect(scratch.stub.stats().peakInFlight).toBe(1);
    } finally {
      await server.stop();
    }
  });

  it("migrates it with apply", async () => {
    const applied = await llmMigrate("apply", scratch.dir);
    expect(applied.stderr).toBe("");
    expect(applied.status).toBe(0);
    expect(applied.stdout).toMatch(/rewritten\s+app\/main\.py:\d+\s+llm_client\.generate_response \(canary key: request\.user_id\)/);
    expect([...snapshotTree(scratch.dir).keys()]).toContain("app/llm_api.py");
  });

  it("serves 9 concurrent users through a pool of 3 after it", async () => {
    scratch.stub.reset();
    const server = await start();
    try {
      const answers = await chatConcurrently(server.url, "after, LLM_POOL_SIZE=3");
      expect(answers.map((a) => a.json)).toEqual(nineUsers.map((u, i) => ({ user_id: u.user_id, reply: `echo: question ${i}` })));
      const upstream = scratch.stub.stats();
      expect(upstream.peakInFlight).toBeGreaterThanOrEqual(2);
      expect(upstream.peakInFlight).toBeLessThanOrEqual(3);
      // The wrapper itself runs on the new path: same endpoint, same model as before the migration.
      expect(upstream.byEndpoint).toEqual({ "/v1/chat/completions": 9 });
      expect(new Set(upstream.received.map((r) => r.model))).toEqual(new Set(["gpt-4o-mini"]));

      const metrics = await fetch(`${server.url}/metrics/llm`).then((r) => r.json());
      expect(metrics).toMatchObject({ poolSize: 3, inFlight: 0, queued: 0, requestsTotal: 9, errorsTotal: 0, paths: { new: 9, legacy: 0 } });
      expect(JSON.stringify(metrics)).not.toContain("question");
      const prometheus = await fetch(`${server.url}/metrics/llm?format=prometheus`);
      expect(prometheus.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(await prometheus.text()).toContain('llm_requests_total{outcome="ok"} 9');
    } finally {
      await server.stop();
    }
  });

  it.each([
    ["FORCE_LEGACY_LLM=true", { FORCE_LEGACY_LLM: "true" }],
    ["LLM_CANARY_PERCENT=0", { LLM_CANARY_PERCENT: "0" }],
  ])("takes the scratch.original path in a worker thread with %s", async (_name, env) => {
    scratch.stub.reset();
    // With LLM_METRICS_TOKEN set, the route apply wrote passes the request's Authorization on.
    const server = await start({ ...env, LLM_METRICS_TOKEN: "metrics-token-for-tests" });
    try {
      const answers = await Promise.all(nineUsers.slice(0, 3).map((body) => postJson(`${server.url}/chat`, body)));
      expect(answers.map((a) => a.json.reply)).toEqual(["echo: question 0", "echo: question 1", "echo: question 2"]);
      expect(scratch.stub.stats().byEndpoint).toEqual({ "/v1/chat/completions": 3 });
      expect(new Set(scratch.stub.stats().received.map((r) => r.model))).toEqual(new Set(["gpt-4o-mini"]));
      expect((await fetch(`${server.url}/metrics/llm`)).status).toBe(401);
      const authorized = { headers: { authorization: "Bearer metrics-token-for-tests" } };
      const metrics = await fetch(`${server.url}/metrics/llm`, authorized).then((r) => r.json());
      expect(metrics.paths).toEqual({ new: 0, legacy: 3 });
    } finally {
      await server.stop();
    }
  });

  it("says already migrated on a second apply and changes nothing", async () => {
    const before = snapshotTree(scratch.dir);
    const again = await llmMigrate("apply", scratch.dir);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/already migrated/i);
    expect(snapshotTree(scratch.dir)).toEqual(before);
  });

  it("rolls back every file byte for byte", async () => {
    const rolledBack = await llmMigrate("rollback", scratch.dir);
    expect(rolledBack.status).toBe(0);
    expect(snapshotTree(scratch.dir)).toEqual(scratch.original);
  });
});
