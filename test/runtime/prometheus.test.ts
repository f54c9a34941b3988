// GET /metrics/llm in Prometheus text in every mode, checked by Prometheus's own promtool, and the
// route turned off or behind a bearer token.
import { spawnSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { getAsyncLlmClient, llmMetricsResponse, sendLlmMetrics, useNewLlmPath } from "../../runtime/index.js";
import { chat, useStubUpstream } from "./support.js";

const upstream = useStubUpstream();

const promtoolFound = spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0;
if (!promtoolFound && process.env["CI"]) throw new Error("promtool is missing: apt-get install -y prometheus");

/** promtool's verdict on a scrape: its exit status and what it said. */
function promtoolCheck(text: string): { status: number | null; output: string } {
  const run = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

async function scrape(): Promise<string> {
  const reply = await llmMetricsResponse({ format: "prometheus" });
  expect(reply.status).toBe(200);
  expect(reply.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  return reply.body;
}

async function someTraffic(options: Parameters<typeof getAsyncLlmClient>[0] = { poolSize: 2 }) {
  const client = getAsyncLlmClient(options);
  const sdk = upstream.sdk();
  useNewLlmPath({ key: "user-1" });
  await client.run((request) => sdk.chat.completions.create(chat("hello"), request));
  upstream.stub().configure({ failNext: 1, failStatus: 400 });
  await client.run((request) => sdk.chat.completions.create(chat("bad"), request)).catch(() => undefined);
  return client;
}

describe.skipIf(!promtoolFound)("Prometheus text passes promtool check metrics", () => {
  it.each([
    ["a fixed pool", {}, { poolSize: 2 }, /^llm_gate_enabled 1$/m],
    ["an auto pool", {}, { poolSize: "auto" as const }, /^llm_gate_pool_size \d+$/m],
    ["EMERGENCY_MODE", { EMERGENCY_MODE: "true" }, { poolSize: 2 }, /^llm_gate_emergency_mode 1$/m],
    ["DISABLE_POOL", { DISABLE_POOL: "true" }, { poolSize: 2 }, /^llm_gate_enabled 0$/m],
  ])("in %s", async (_mode, env, options, expected) => {
    Object.assign(process.env, env);
    await someTraffic(options);
    const text = await scrape();
    expect(text).toMatch(expected);
    expect(promtoolCheck(text)).toEqual({ status: 0, output: "" });
  });

  it("with no client created yet (legacy mode)", async () => {
    useNewLlmPath({ key: "user-1" });
    const text = await scrape();
    expect(text).toMatch(/^llm_gate_enabled 0$/m);
    expect(text).toMatch(/^llm_path_total\{path="legacy"\} 1$/m);
    expect(promtoolCheck(text)).toEqual({ status: 0, output: "" });
  });
});

describe("who may read /metrics/llm", () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    delete process.env["LLM_METRICS_TOKEN"];
    delete process.env["LLM_METRICS"];
  });

  async function get(headers: Record<string, string> = {}): Promise<Response> {
    server = createServer((req, res) => void sendLlmMetrics(req, res));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return fetch(`http://127.0.0.1:${port}/metrics/llm`, { headers });
  }

  it("is open by default", async () => {
    getAsyncLlmClient({ poolSize: 2 });
    expect((await get()).status).toBe(200);
  });

  it("asks for the bearer token when LLM_METRICS_TOKEN is set", async () => {
    getAsyncLlmClient({ poolSize: 2 });
    process.env["LLM_METRICS_TOKEN"] = "metrics-token-for-tests";
    const refused = await get();
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toBe('Bearer realm="llm-metrics"');
    server!.close();
    expect((await get({ authorization: "Bearer wrong-token" })).status).toBe(401);
    server!.close();
    const allowed = await get({ authorization: "Bearer metrics-token-for-tests" });
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toMatchObject({ poolSize: 2 });
    // As the routes apply writes pass it: the request's headers, node:http's or a Fetch Headers.
    expect((await llmMetricsResponse({ headers: { authorization: "Bearer metrics-token-for-tests" } })).status).toBe(200);
    expect((await llmMetricsResponse({ headers: new Headers({ Authorization: "Bearer metrics-token-for-tests" }) })).status).toBe(200);
    expect((await llmMetricsResponse({ headers: { authorization: "Bearer wrong-token" } })).status).toBe(401);
  });

  it("answers 404 when LLM_METRICS=off", async () => {
    getAsyncLlmClient({ poolSize: 2 });
    process.env["LLM_METRICS"] = "off";
    expect((await get()).status).toBe(404);
    expect((await llmMetricsResponse({ format: "prometheus" })).status).toBe(404);
  });
});
