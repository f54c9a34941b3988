// Memory benchmark of the bundled runtime (not a test): `npm run bench:memory`.
// 50,000 calls in a row through the gate — with the real openai SDK against the stub upstream (in
// its own process, so the stub's heap is not ours), then as bare gated calls, then as calls that
// fail (upstream 500, no retries) — with the heap measured after a forced GC before and after.
// A leak of even 100 bytes per call would show as ~5 MB. The last line is the summary to grep.
import OpenAI from "openai";
import { resetAsyncLlmClientForTests } from "../runtime/client.js";
import type { AsyncLlmClient } from "../runtime/index.js";
import { collectGarbage, freshClient, startStubProcess } from "./support.js";

const CALLS = Number(process.env.BENCH_CALLS ?? 50_000);
const WARM_UP = 2_000;
/** Callers each making calls one after another, so the pool is used as a server would use it. */
const CALLERS = 10;

function heapMiB(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

async function inARow(calls: number, call: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (next < calls) await call(next++);
    }),
  );
}

interface Figures {
  key: string;
  name: string;
  beforeMiB: number;
  afterMiB: number;
  seconds: number;
  calls: number;
}

async function measure(key: string, name: string, client: AsyncLlmClient, call: (i: number) => Promise<unknown>): Promise<Figures> {
  await inARow(WARM_UP, call);
  const beforeMiB = heapMiB();
  const started = process.hrtime.bigint();
  await inARow(CALLS, call);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const afterMiB = heapMiB();
  const metrics = client.getMetrics();
  if (metrics.inFlight !== 0 || metrics.queued !== 0) throw new Error(`${name}: the gate is not empty after the run`);
  return { key, name, beforeMiB, afterMiB, seconds, calls: CALLS };
}

const stub = await startStubProcess();
const results: Figures[] = [];
try {
  const sdk = new OpenAI({ baseURL: stub.url, apiKey: "sk-bench-not-a-secret" });
  const request = (i: number) => ({ model: "gpt-4o-mini", messages: [{ role: "user" as const, content: `question ${i}` }] });

  const sdkClient = freshClient({ poolSize: CALLERS, maxQueue: 1000 });
  results.push(await measure("sdk", "SDK calls against the stub", sdkClient, (i) => sdkClient.run((options) => sdk.chat.completions.create(request(i), options))));

  const gateClient = freshClient({ poolSize: CALLERS, maxQueue: 1000 });
  results.push(await measure("gate", "bare gated calls", gateClient, async (i) => gateClient.run(async () => i)));

  const failingClient = freshClient({ poolSize: CALLERS, maxQueue: 1000, maxRetries: 0 });
  const failing = async () => {
    throw Object.assign(new Error("upstream 500"), { status: 500 });
  };
  results.push(await measure("failing", "failing calls (500, no retry)", failingClient, () => failingClient.run(failing).catch(() => undefined)));
} finally {
  stub.child.kill("SIGTERM");
  resetAsyncLlmClientForTests();
}

console.log(`${CALLS} calls in a row per case, ${CALLERS} callers, heap after a forced GC:`);
for (const r of results) {
  const growth = r.afterMiB - r.beforeMiB;
  console.log(
    `  ${r.name.padEnd(32)} heap ${r.beforeMiB.toFixed(1)} → ${r.afterMiB.toFixed(1)} MiB (${growth >= 0 ? "+" : ""}${growth.toFixed(2)} MiB, ` +
      `${((growth * 1024 * 1024) / r.calls).toFixed(1)} B/call), ${Math.round(r.calls / r.seconds)} calls/s`,
  );
}
console.log(`  rss ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB`);
console.log(`memory: calls=${CALLS} ` + results.map((r) => `${r.key}_growth_mib=${(r.afterMiB - r.beforeMiB).toFixed(2)}`).join(" "));
