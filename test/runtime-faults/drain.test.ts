// drain() on SIGTERM in a real server (drain-server.ts, run with tsx against the stub): in-flight
// calls finish and are answered, queued ones get 503 + Retry-After, and the process exits by itself.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiStub, type OpenAiStub } from "../../src/stub/openai-stub.js";
import { repoRoot, startServer } from "../e2e/support.js";
import { until } from "../runtime/support.js";

describe("drain on SIGTERM in a real server", () => {
  let stub: OpenAiStub;
  beforeAll(async () => {
    stub = await startOpenAiStub({ latencyMs: 1_000 });
  });
  afterAll(async () => {
    await stub?.close();
  });

  it("lets in-flight calls finish and answers queued ones 503 with Retry-After", async () => {
    const server = await startServer([process.execPath, "--import", "tsx", join(repoRoot, "test", "runtime-faults", "drain-server.ts")], repoRoot, {
      OPENAI_BASE_URL: stub.url,
      OPENAI_API_KEY: "sk-test-not-a-secret",
    });
    const ask = (text: string) =>
      fetch(`${server.url}/chat`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text }) }).then(
        async (response) => ({ status: response.status, json: await response.json(), retryAfter: response.headers.get("retry-after") }),
      );
    const answers = [ask("in flight 1"), ask("in flight 2")];
    await until(() => stub.stats().requests === 2, "the pool's two slots taken upstream");
    answers.push(ask("queued 1"), ask("queued 2"), ask("queued 3"));
    let metrics = await fetch(`${server.url}/metrics/llm`).then((response) => response.json());
    for (let polls = 0; metrics.queued !== 3 && polls < 500; polls++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      metrics = await fetch(`${server.url}/metrics/llm`).then((response) => response.json());
    }
    expect(metrics).toMatchObject({ inFlight: 2, queued: 3 });

    const stopped = server.stop();
    const results = await Promise.all(answers);
    await stopped;
    expect(results.slice(0, 2)).toEqual([
      { status: 200, json: { reply: "echo: in flight 1" }, retryAfter: null },
      { status: 200, json: { reply: "echo: in flight 2" }, retryAfter: null },
    ]);
    for (const queued of results.slice(2)) {
      expect(queued).toMatchObject({ status: 503, retryAfter: "1", json: { error: { code: "llm_draining", retryable: true } } });
    }
    expect(stub.stats().received.map((request) => request.text)).toEqual(["in flight 1", "in flight 2"]);
    expect(server.output()).toContain("drain-server drained, all in-flight calls finished: true");
    expect(server.output()).toContain("drain-server closed");
  });
});
