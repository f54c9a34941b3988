// Every web framework end to end: migrate a small server written for it, run it against the stub
// upstream with a pool of 3 and a canary of 50 %, and check both sides of the gate apply wrote: the
// users in the canary share the pool, the others take the original path. Also /metrics/llm and its
// LLM_METRICS_TOKEN. One server per framework: the switch that sends everyone down the original
// path (FORCE_LEGACY_LLM) is the runtime's alone, and verify.test.ts and the runtime's tests run it.
import { mkdirSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiStub, type OpenAiStub } from "../../src/stub/openai-stub.js";
import { canaryUsers, copyServer, llmMigrate, postJson, removeScratch, repoRoot, startServer, type RunningServer } from "./support.js";

const tsx = [process.execPath, "--import", "tsx"];
const servers = [
  { name: "express5", command: [process.execPath, "server.js"] },
  { name: "fastify", command: [...tsx, "src/server.ts"] },
  { name: "koa", command: [...tsx, "src/server.ts"] },
  { name: "hono", command: [...tsx, "src/server.ts"] },
  { name: "nest", command: [...tsx, "src/main.ts"] },
  { name: "h3", command: [...tsx, "src/server.ts"] },
  { name: "nitro-file-routes", command: [...tsx, join(repoRoot, "test/e2e/nitro-routes.ts")], chat: "/api/chat" },
  { name: "http", command: [process.execPath, "server.js"] },
];

/** The servers' LLM_METRICS_TOKEN: the route `apply` wrote must pass the request's Authorization on. */
const METRICS_TOKEN = "metrics-token-for-tests";
const authorized = { headers: { authorization: `Bearer ${METRICS_TOKEN}` } };

/** Every server gates with `{ key: userId }`: these users fall inside a 50 % canary, those outside. */
const CANARY_PERCENT = 50;
const { inside: inCanary, outside: otherUsers } = canaryUsers(CANARY_PERCENT, { inside: 9, outside: 6 });

const request = (userId: string, i: number) => ({
  userId,
  message: `question ${i}`,
  messages: [{ role: "user", content: `question ${i}` }],
});

/**
 * The repo holds express 4 as `express` and express 5 as `express5`; the Express 5 server gets a
 * node_modules of its own in which `express` is express 5.
 */
function linkExpress5(dir: string): void {
  const modules = join(dir, "node_modules");
  rmSync(modules, { force: true });
  mkdirSync(modules);
  const shared = join(repoRoot, "node_modules");
  for (const name of readdirSync(shared)) {
    if (name === "express" || name === ".bin") continue;
    symlinkSync(join(shared, name), join(modules, name), "dir");
  }
  symlinkSync(join(shared, "express5"), join(modules, "express"), "dir");
}

let stub: OpenAiStub;
const dirs = new Map<string, string>();

beforeAll(async () => {
  expect([inCanary.length, otherUsers.length]).toEqual([9, 6]);
  stub = await startOpenAiStub({ latencyMs: 250 });
  for (const { name } of servers) {
    const dir = copyServer(name);
    if (name === "express5") linkExpress5(dir);
    dirs.set(name, dir);
  }
  const runs = await Promise.all(servers.map(({ name }) => llmMigrate("apply", dirs.get(name)!)));
  for (const run of runs) expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
}, 120_000);

afterAll(async () => {
  await stub?.close();
  for (const dir of dirs.values()) removeScratch(dir);
});

describe.each(servers)("a $name server, migrated", ({ name, command, chat = "/chat" }) => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer(command, dirs.get(name)!, {
      OPENAI_BASE_URL: stub.url,
      OPENAI_API_KEY: "sk-test-not-a-secret",
      LLM_POOL_SIZE: "3",
      LLM_CANARY_PERCENT: String(CANARY_PERCENT),
      LLM_METRICS_TOKEN: METRICS_TOKEN,
    });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("serves 9 concurrent users of the canary through a pool of 3 and answers /metrics/llm", async () => {
    stub.reset();
    const answers = await Promise.all(inCanary.map((user, i) => postJson(`${server.url}${chat}`, request(user, i))));
    expect(answers.map((a) => a.status)).toEqual(Array(9).fill(200));
    expect(answers.map((a) => a.json.reply)).toEqual(inCanary.map((_, i) => `echo: question ${i}`));
    const { peakInFlight } = stub.stats();
    expect(peakInFlight).toBeGreaterThanOrEqual(2);
    expect(peakInFlight).toBeLessThanOrEqual(3);

    const metrics = await fetch(`${server.url}/metrics/llm`, authorized);
    expect(metrics.status).toBe(200);
    expect(await metrics.json()).toMatchObject({ poolSize: 3, inFlight: 0, requestsTotal: 9, paths: { new: 9 } });
    const prometheus = await fetch(`${server.url}/metrics/llm?format=prometheus`, authorized);
    expect(prometheus.headers.get("content-type")).toMatch(/^text\/plain/);
  });

  it("sends the users outside the canary down the original, unbounded path, and keeps /metrics/llm behind LLM_METRICS_TOKEN", async () => {
    stub.reset();
    const answers = await Promise.all(otherUsers.map((user, i) => postJson(`${server.url}${chat}`, request(user, i))));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    expect(stub.stats().peakInFlight).toBeGreaterThan(3);
    expect((await fetch(`${server.url}/metrics/llm`)).status).toBe(401);
    const metrics = await fetch(`${server.url}/metrics/llm`, authorized);
    expect(metrics.status).toBe(200);
    expect((await metrics.json()).paths).toMatchObject({ legacy: 6 });
  });
});
