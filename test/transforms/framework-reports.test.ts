// What the report says for each framework's fixtures: the call sites, their canary keys, the
// metrics route, and the per-request clients left alone.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, migrateTree, readTree } from "./helpers.js";

const run = (framework: string, name: string) => migrateTree(readTree(join(FIXTURES, "frameworks", framework, name, "input")));

describe("framework fixtures, as reported", () => {
  it.each([
    ["fastify", "plugin-routes", "src/server.ts", 13, "userId", "app"],
    ["koa", "router", "src/server.ts", 10, "ctx.state.user?.id", "app"],
    ["hono", "node-server", "src/server.ts", 10, 'c.req.header("x-forwarded-for")', "app"],
    ["http", "listener", "server.js", 15, "req.socket.remoteAddress", "http.createServer"],
    ["express5", "router", "server.mjs", 11, "userId", "app"],
    ["nest", "service", "src/chat.service.ts", 9, "userId", "AppModule"],
  ])("%s/%s: the SDK call is rewritten with its canary key and GET /metrics/llm is added", async (framework, name, file, line, key, receiver) => {
    const { outcome } = await run(framework, name);
    expect(outcome.framework).toBe(framework === "express5" ? "express" : framework);
    expect(outcome.callSites).toEqual([
      { file, line, column: expect.any(Number), callee: "openai.chat.completions.create", state: "rewritten", key },
    ]);
    expect(outcome.findings).toContainEqual(
      expect.objectContaining({ code: "METRICS_ROUTE_ADDED", kind: "info", message: `GET /metrics/llm added on ${receiver}` }),
    );
  });

  it.each([
    ["fastify", "byok-proxy-unchanged", "src/server.ts", 10],
    ["hono", "workers-env-unchanged", "src/index.ts", 10],
  ])("%s/%s: a client built per request from the request's credential is reported and left alone", async (framework, name, file, line) => {
    const { outcome } = await run(framework, name);
    expect(outcome.callSites.length).toBeGreaterThan(0);
    for (const site of outcome.callSites) expect(site).toMatchObject({ state: "left", reason: "PER_REQUEST_CREDENTIAL" });
    expect(outcome.runtimeDir).toBeUndefined();
    expect(outcome.findings).toContainEqual(expect.objectContaining({ code: "PER_REQUEST_CLIENT", kind: "info", file, line }));
  });

  it("koa/handler-named-openai-unchanged: a route handler named openai is no client", async () => {
    const { outcome } = await run("koa", "handler-named-openai-unchanged");
    expect(outcome.callSites).toEqual([]);
    expect(outcome.runtimeDir).toBeUndefined();
    expect(outcome.findings.map((f) => f.code)).toEqual(["NO_SHARED_CLIENT"]);
  });
});
