// Benchmark of the bundled runtime (not a test): `npm run bench:runtime`.
//  1. Cost per call, uncontended (10^6 calls each of client.run(noop), gateLlmCall(noop), p-limit(noop)
//     and noop itself, interleaved in rounds of 10^5) and queued, next to p-limit; heap per queued call.
//  2. 20 users, pool 10, upstream latency 200 ms, 10 s against the stub through the real SDK:
//     throughput against Little's-law limit min(users, pool) / latency, latency, success rate.
// The last line is the summary CI and humans grep for.
import pLimit from "p-limit";
import { gateLlmCall, resetAsyncLlmClientForTests } from "../runtime/client.js";
import type { OpenAiStubStats } from "../src/stub/openai-stub.js";
import { collectGarbage, freshClient as freshClientWith, startStubProcess } from "./support.js";

const noop = async () => 1;

async function microsPerCall(call: () => Promise<unknown>, calls: number): Promise<number> {
  for (let i = 0; i < calls / 10; i++) await call();
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await call();
  return Number(process.hrtime.bigint() - started) / 1000 / calls;
}

/** `calls` submitted at once through a limiter of 10: time per call with almost all of them queued. */
async function microsPerQueuedCall(submit: (task: () => Promise<number>) => Promise<unknown>, calls: number): Promise<number> {
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: calls }, () => submit(noop)));
  return Number(process.hrtime.bigint() - started) / 1000 / calls;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Room for every queued call of the overhead runs, and no deadline to hit. */
function freshClient(poolSize: number) {
  return freshClientWith({ poolSize, maxQueue: 1_000_000, timeoutMs: 600_000 });
}

async function gateOverhead() {
  const rounds = 10;
  const calls = 100_000;
  const limit = pLimit(10);
  const client = freshClient(10);
  const direct: number[] = [];
  const pLimitUncontended: number[] = [];
  const gateUncontended: number[] = [];
  const gateLlmCallUncontended: number[] = [];
  for (let round = 0; round < rounds; round++) {
    direct.push(await microsPerCall(noop, calls));
    pLimitUncontended.push(await microsPerCall(() => limit(noop), calls));
    gateUncontended.push(await microsPerCall(() => client.run(noop), calls));
    gateLlmCallUncontended.push(await microsPerCall(() => gateLlmCall({ key: "user-1" }, noop), calls));
  }
  const queuedCalls = 50_000;
  const pLimitQueued: number[] = [];
  const gateQueued: number[] = [];
  for (let round = 0; round < rounds; round++) {
    pLimitQueued.push(await microsPerQueuedCall((task) => limit(task), queuedCalls));
    const queuedClient = freshClient(10);
    gateQueued.push(await microsPerQueuedCall((task) => queuedClient.run(task), queuedCalls));
  }
  return {
    direct: median(direct),
    pLimitUncontended: median(pLimitUncontended),
    gateUncontended: median(gateUncontended),
    gateLlmCallUncontended: median(gateLlmCallUncontended),
    pLimitQueued: median(pLimitQueued),
    gateQueued: median(gateQueued),
  };
}

async function heapPerQueuedCall(): Promise<number> {
  const client = freshClient(1);
  const waiting = 20_000;
  let unblock: () => void = () => undefined;
  const blocker = client.run(() => new Promise<void>((resolve) => (unblock = resolve)));
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const queued = Array.from({ length: waiting }, () => client.run(noop));
  collectGarbage();
  const after = process.memoryUsage().heapUsed;
  unblock();
  await Promise.all([blocker, ...queued]);
  return (after - before) / waiting / 1024;
}

async function underLoad() {
  const users = 20;
  const poolSize = 10;
  const latencyMs = 200;
  const durationMs = 10_000;
  // The stub rate-limits beyond the pool size: any overshoot by the gate would show as 429s.
  const stub = await startStubProcess(["--latency", String(latencyMs), "--concurrency-limit", String(poolSize)]);
  const control = stub.url.replace(/\/v1$/, "/_stub");
  process.env.OPENAI_BASE_URL = stub.url;
  const client = freshClient(poolSize);
  await Promise.all(Array.from({ length: poolSize }, () => client.generateResponseAsync("warm up")));
  await fetch(`${control}/reset`, { method: "POST" });

  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  let lastFinished = started;
  await Promise.all(
    Array.from({ length: users }, async (_, user) => {
      for (let turn = 0; performance.now() - started < durationMs; turn++) {
        const sent = performance.now();
        try {
          await client.generateResponseAsync([{ role: "user", content: `user ${user} turn ${turn}` }]);
          latencies.push(performance.now() - sent);
        } catch {
          failures++;
        }
        lastFinished = performance.now();
      }
    }),
  );
  const elapsedSeconds = (lastFinished - started) / 1000;
  const stats = (await fetch(`${control}/stats`).then((response) => response.json())) as OpenAiStubStats;
  stub.child.kill("SIGTERM");
  latencies.sort((a, b) => a - b);
  const throughput = latencies.length / elapsedSeconds;
  const limit = Math.min(users, poolSize) / (latencyMs / 1000);
  return {
    users,
    poolSize,
    latencyMs,
    throughput,
    limit,
    ratio: throughput / limit,
    p50: latencies[Math.floor(latencies.length * 0.5)] ?? 0,
    p95: latencies[Math.floor(latencies.length * 0.95)] ?? 0,
    success: latencies.length / (latencies.length + failures),
    upstreamPeak: stats.peakInFlight,
    upstream429: stats.byStatus["429"] ?? 0,
  };
}

const overhead = await gateOverhead();
const heapKb = await heapPerQueuedCall();
const load = await underLoad();
resetAsyncLlmClientForTests();

const overheadUs = overhead.gateUncontended - overhead.direct;
const gateLlmCallOverheadUs = overhead.gateLlmCallUncontended - overhead.direct;
const rows: Array<[string, string]> = [
  ["await task() directly", `${overhead.direct.toFixed(3)} µs/call`],
  ["p-limit(10), uncontended", `${overhead.pLimitUncontended.toFixed(3)} µs/call`],
  ["runtime run(), uncontended", `${overhead.gateUncontended.toFixed(3)} µs/call`],
  ["gateLlmCall(), uncontended", `${overhead.gateLlmCallUncontended.toFixed(3)} µs/call`],
  ["p-limit(10), 50k queued", `${overhead.pLimitQueued.toFixed(3)} µs/call`],
  ["runtime run(), 50k queued", `${overhead.gateQueued.toFixed(3)} µs/call`],
  ["heap per queued call", `${heapKb.toFixed(2)} KiB`],
  [`load: ${load.users} users, pool ${load.poolSize}, ${load.latencyMs} ms`, `${load.throughput.toFixed(1)} req/s (limit ${load.limit.toFixed(1)})`],
  ["load latency p50 / p95", `${load.p50.toFixed(0)} / ${load.p95.toFixed(0)} ms`],
  ["load success rate", load.success.toFixed(3)],
  ["upstream peak in flight / 429s", `${load.upstreamPeak} / ${load.upstream429}`],
];
const width = Math.max(...rows.map(([name]) => name.length));
for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${value}`);
console.log(
  `runtime: ratio_to_limit=${load.ratio.toFixed(2)} overhead_us=${overheadUs.toFixed(2)} ` +
    `gate_llm_call_overhead_us=${gateLlmCallOverheadUs.toFixed(2)} p_limit_us=${(overhead.pLimitUncontended - overhead.direct).toFixed(2)} ` +
    `heap_per_queued_kb=${heapKb.toFixed(1)} success=${load.success.toFixed(3)}`,
);
