// Every web framework end to end: migrate a small server written for it, run it against the stub
// upstream with a pool of 3, and check the pool, /metrics/llm (and its LLM_METRICS_TOKEN) and the legacy switch.
import { mkdirSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiStub, type OpenAiStub } from "../../src/stub/openai-stub.js";
import { copyServer, llmMigrate, postJson, removeScratch, repoRoot, startServer, type RunningServer } from "./support.js";

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

/** The legacy servers' LLM_METRICS_TOKEN: the route `apply` wrote must pass the request's Authorization on. */
const METRICS_TOKEN = "metrics-token-for-tests";

const request = (i: number) => ({
  userId: `user-${i}`,
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

// One stub for the pooled servers and one for the legacy ones, so each server can start at once.
let pooledStub: OpenAiStub;
let legacyStub: OpenAiStub;
const dirs = new Map<string, string>();

beforeAll(async () => {
  [pooledStub, legacyStub] = await Promise.all([startOpenAiStub({ latencyMs: 250 }), startOpenAiStub({ latencyMs: 250 })]);
  for (const { name } of servers) {
    const dir = copyServer(name);
    if (name === "express5") linkExpress5(dir);
    dirs.set(name, dir);
  }
  const runs = await Promise.all(servers.map(({ name }) => llmMigrate("apply", dirs.get(name)!)));
  for (const run of runs) expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
}, 120_000);

afterAll(async () => {
  await Promise.all([pooledStub?.close(), legacyStub?.close()]);
  for (const dir of dirs.values()) removeScratch(dir);
});

describe.each(servers)("a $name server, migrated", ({ name, command, chat = "/chat" }) => {
  let pooled: RunningServer;
  let legacy: RunningServer;

  beforeAll(async () => {
    const dir = dirs.get(name)!;
    const env = (stub: OpenAiStub, extra: Record<string, string> = {}) => ({
      OPENAI_BASE_URL: stub.url,
      OPENAI_API_KEY: "sk-test-not-a-secret",
      LLM_POOL_SIZE: "3",
      ...extra,
    });
    [pooled, legacy] = await Promise.all([
      startServer(command, dir, env(pooledStub)),
      startServer(command, dir, env(legacyStub, { FORCE_LEGACY_LLM: "true", LLM_METRICS_TOKEN: METRICS_TOKEN })),
    ]);
  });

  afterAll(async () => {
    await Promise.all([pooled?.stop(), legacy?.stop()]);
  });

  it("serves 9 concurrent users through a pool of 3 and answers /metrics/llm", async () => {
    pooledStub.reset();
    const answers = await Promise.all(Array.from({ length: 9 }, (_, i) => postJson(`${pooled.url}${chat}`, request(i))));
    expect(answers.map((a) => a.status)).toEqual(Array(9).fill(200));
    expect(answers.map((a) => a.json.reply)).toEqual(Array.from({ length: 9 }, (_, i) => `echo: question ${i}`));
    const { peakInFlight } = pooledStub.stats();
    expect(peakInFlight).toBeGreaterThanOrEqual(2);
    expect(peakInFlight).toBeLessThanOrEqual(3);

    const metrics = await fetch(`${pooled.url}/metrics/llm`);
    expect(metrics.status).toBe(200);
    expect(await metrics.json()).toMatchObject({ poolSize: 3, inFlight: 0, requestsTotal: 9, paths: { new: 9, legacy: 0 } });
    const prometheus = await fetch(`${pooled.url}/metrics/llm?format=prometheus`);
    expect(prometheus.headers.get("content-type")).toMatch(/^text\/plain/);
  });

  it("takes the original, unbounded path with FORCE_LEGACY_LLM=true", async () => {
    legacyStub.reset();
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => postJson(`${legacy.url}${chat}`, request(i))));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    expect(legacyStub.stats().peakInFlight).toBeGreaterThan(3);
    expect((await fetch(`${legacy.url}/metrics/llm`)).status).toBe(401);
    const metrics = await fetch(`${legacy.url}/metrics/llm`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(metrics.status).toBe(200);
    expect((await metrics.json()).paths).toEqual({ new: 0, legacy: 6 });
  });
});
