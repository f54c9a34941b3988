// The guide's own main.py, end to end: `llm_client = learning_plannner()` in a startup handler and
// `llm_client.generate_response(messages)` in `async def chat_with_ai`, with the guide's names. It
// is migrated with the CLI, run under real uvicorn against the stub upstream, and rolled back.
import { performance } from "node:perf_hooks";
import { join } from "node:path";
import { expect, it } from "vitest";
import { describeWithFastapi } from "../debian-python.js";
import { llmMigrate, snapshotTree, useScratchServer } from "../e2e/support.js";
import { startUvicorn } from "./uvicorn.js";

const nineUsers = Array.from({ length: 9 }, (_, i) => ({ userId: 100 + i, message: `question ${i}` }));

describeWithFastapi("llm-migrate on the guide's main.py (learning_plannner)", () => {
  const scratch = useScratchServer("fastapi-guide");

  const start = (env: Record<string, string> = {}) => startUvicorn("main:app", join(scratch.dir, "backend"), scratch.stub.url, env);

  async function chat(url: string, users: typeof nineUsers, label: string) {
    const started = performance.now();
    const answers = await Promise.all(
      users.map(async (user) => {
        const response = await fetch(`${url}/chat`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-user-id": String(user.userId) },
          body: JSON.stringify({ message: user.message }),
        });
        return response.json();
      }),
    );
    console.log(`guide e2e, ${label}: ${users.length} concurrent chats took ${Math.round(performance.now() - started)} ms`);
    return answers;
  }

  /** What the upstream saw: each path and model once, so both branches can be compared whole. */
  const upstreamCalls = () => {
    const { byEndpoint, received } = scratch.stub.stats();
    return { byEndpoint, models: [...new Set(received.map((r) => r.model))] };
  };

  it("answers one chat at a time before the migration", async () => {
    scratch.stub.reset();
    const server = await start();
    try {
      const answers = await chat(server.url, nineUsers, "before");
      expect(answers).toEqual(nineUsers.map((u, i) => ({ user_id: u.userId, reply: `echo: question ${i}` })));
      expect(scratch.stub.stats().peakInFlight).toBe(1);
      expect(upstreamCalls()).toEqual({ byEndpoint: { "/v1/chat/completions": 9 }, models: ["gpt-4o"] });
    } finally {
      await server.stop();
    }
  });

  it("finds the lower-case wrapper through its startup handler and gates the call", async () => {
    const applied = await llmMigrate("apply", scratch.dir);
    expect(applied.stderr).toBe("");
    expect(applied.status).toBe(0);
    expect(applied.stdout).toMatch(/rewritten\s+backend\/main\.py:\d+\s+llm_client\.generate_response \(canary key: current_user\)/);
    const after = snapshotTree(scratch.dir);
    expect([...after.keys()]).toContain("backend/llm_api.py");
    // The app's own module/llm_api.py is the wrapper's home, not the runtime: untouched.
    expect(after.get("backend/module/llm_api.py")).toEqual(scratch.original.get("backend/module/llm_api.py"));
  });

  it("runs the same wrapper, same path and model, at most LLM_POOL_SIZE at a time on the new path", async () => {
    scratch.stub.reset();
    const server = await start();
    try {
      const answers = await chat(server.url, nineUsers, "after, LLM_POOL_SIZE=3");
      expect(answers).toEqual(nineUsers.map((u, i) => ({ user_id: u.userId, reply: `echo: question ${i}` })));
      expect(scratch.stub.stats().peakInFlight).toBeGreaterThanOrEqual(2);
      expect(scratch.stub.stats().peakInFlight).toBeLessThanOrEqual(3);
      expect(upstreamCalls()).toEqual({ byEndpoint: { "/v1/chat/completions": 9 }, models: ["gpt-4o"] });
      const metrics = await fetch(`${server.url}/metrics/llm`).then((r) => r.json());
      expect(metrics).toMatchObject({ poolSize: 3, requestsTotal: 9, errorsTotal: 0, paths: { new: 9, legacy: 0 } });
    } finally {
      await server.stop();
    }
  });

  it("sends the same path and model on the legacy branch", async () => {
    scratch.stub.reset();
    const server = await start({ FORCE_LEGACY_LLM: "true" });
    try {
      await chat(server.url, nineUsers.slice(0, 3), "legacy");
      expect(upstreamCalls()).toEqual({ byEndpoint: { "/v1/chat/completions": 3 }, models: ["gpt-4o"] });
      const metrics = await fetch(`${server.url}/metrics/llm`).then((r) => r.json());
      expect(metrics.paths).toEqual({ new: 0, legacy: 3 });
    } finally {
      await server.stop();
    }
  });

  it("rolls back every file byte for byte", async () => {
    expect((await llmMigrate("rollback", scratch.dir)).status).toBe(0);
    expect(snapshotTree(scratch.dir)).toEqual(scratch.original);
  });
});
