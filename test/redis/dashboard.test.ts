// The Grafana dashboard against a real Prometheus (Debian's package): it scrapes two migrated
// servers (the Express and the FastAPI example, migrated by the CLI, sharing one limit on a real
// redis-server) under load, and every query of every panel returns data through its HTTP API.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiStub, type OpenAiStub } from "../../src/stub/openai-stub.js";
import { bootServer, freePort, type ServerProcess } from "../../src/verify/processes.js";
import { DEBIAN_PYTHON } from "../debian-python.js";
import { canImport } from "../python-imports.js";
import { copyServer, llmMigrate, removeScratch, repoRoot } from "../e2e/support.js";
import { RedisServer } from "./redis-server.js";

const ready =
  spawnSync("prometheus", ["--version"], { stdio: "ignore" }).status === 0 &&
  canImport("fastapi, uvicorn, httpx, redis.asyncio");
if (!ready) {
  const message = "prometheus, or Debian's Python with fastapi, uvicorn, httpx and redis, is missing: apt-get install -y prometheus redis-server python3-redis python3-fastapi python3-uvicorn python3-httpx";
  if (process.env.CI) throw new Error(message);
  console.warn(`skipping the dashboard test: ${message}`);
}

interface Panel {
  title: string;
  type: string;
  targets?: Array<{ expr: string }>;
}
const dashboard = JSON.parse(readFileSync(join(repoRoot, "monitoring", "grafana-dashboard.json"), "utf8")) as { panels: Panel[] };
const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));

const examples = [
  { name: "express-ts", start: `"${process.execPath}" --import tsx src/server.ts`, body: { userId: "u1", messages: [{ role: "user", content: "hi" }] } },
  { name: "fastapi", start: `${DEBIAN_PYTHON} -m uvicorn app.main:app --host 127.0.0.1 --port "$PORT"`, body: { user_id: "u1", messages: [{ role: "user", content: "hi" }] } },
];

describe.skipIf(!ready)("Grafana dashboard through a real Prometheus", () => {
  let redis: RedisServer;
  let stub: OpenAiStub;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl = "";
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  const scratch = mkdtempSync(join(tmpdir(), "llm-prometheus-"));

  beforeAll(async () => {
    [redis, stub] = await Promise.all([RedisServer.start(), startOpenAiStub({ latencyMs: 50 })]);
    const env = { ...process.env, OPENAI_BASE_URL: stub.url, OPENAI_API_KEY: "sk-test-not-a-secret", LLM_REDIS_URL: redis.url, LLM_GLOBAL_POOL_SIZE: "4" };
    for (const example of examples) {
      const dir = copyServer(example.name);
      dirs.push(dir);
      const migrated = await llmMigrate("apply", dir, "--pool-size", "4");
      expect(migrated.status, migrated.stderr).toBe(0);
      servers.push(await bootServer({ command: example.start, cwd: dir, env }));
    }
    // The scrape snippet as shipped, with a 1 s interval and these two servers as targets.
    const snippet = readFileSync(join(repoRoot, "monitoring", "prometheus.yml"), "utf8")
      .replace("scrape_interval: 15s", "scrape_interval: 1s")
      .replace(/targets:\n(\s+- .*\n)+/, `targets: [${servers.map((server) => `"127.0.0.1:${server.port}"`).join(", ")}]\n`);
    writeFileSync(join(scratch, "prometheus.yml"), snippet);
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn("prometheus", [
      `--config.file=${join(scratch, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(scratch, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ], { stdio: "ignore" });
    await until(async () => (await fetch(`${prometheusUrl}/-/ready`).catch(() => undefined))?.ok === true, "Prometheus ready");
  }, 120_000);

  afterAll(async () => {
    prometheus?.kill();
    await Promise.all(servers.map((server) => server.stop()));
    await stub?.close();
    await redis?.close();
    for (const dir of dirs) removeScratch(dir);
    rmSync(scratch, { recursive: true, force: true });
  });

  async function query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
    const url = `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr.replaceAll("$__rate_interval", "1m"))}`;
    const reply = (await (await fetch(url)).json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    if (reply.status !== "success") throw new Error(`${expr}: ${reply.error}`);
    return reply.data.result;
  }

  it("has every panel query return data for both servers under load", async () => {
    await until(async () => (await query('up{job="llm-runtime"} == 1')).length === 2, "both servers scraped and up");
    // Load on both servers for a few scrapes: 6 callers each, queueing on the shared pool of 4.
    const endAt = Date.now() + 4000;
    await Promise.all(
      servers.flatMap((server, i) =>
        Array.from({ length: 6 }, async () => {
          while (Date.now() < endAt) {
            const response = await fetch(`${server.url}/chat`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(examples[i]!.body) });
            expect(response.status).toBe(200);
            await response.text();
          }
        }),
      ),
    );
    await sleep(1500); // one more scrape after the last call
    expect(queries.length).toBeGreaterThanOrEqual(20);
    const empty: string[] = [];
    for (const { panel, expr } of queries) {
      const result = await query(expr);
      if (result.length === 0) empty.push(`${panel}: ${expr}`);
      // A per-replica panel shows both servers.
      if (expr.includes("by (instance")) expect(new Set(result.map((series) => series.metric.instance)).size, expr).toBe(2);
    }
    expect(empty).toEqual([]);
    const [usage] = await query("max_over_time((sum(llm_gate_in_flight) / max(llm_shared_pool_size))[10s:1s])");
    expect(Number(usage!.value[1])).toBeGreaterThan(0);
  }, 60_000);
});

async function until(condition: () => Promise<boolean>, what: string, limitMs = 30_000): Promise<void> {
  const giveUpAt = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}`);
    await sleep(100);
  }
}
