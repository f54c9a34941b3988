// Benchmark of LLM_POOL_SIZE=auto (not a test): `npm run bench:adaptive`.
// The stub (its own process) accepts K calls at once and answers 429 beyond, L = 300 ms.
// For K in {2, 5, 20}, once without and once with rate-limit headers, 60 callers make 10 calls
// each through the real SDK and the runtime with LLM_POOL_SIZE=auto.
//  - goodput ratio: successful calls per second ÷ (K / L), from convergence to the last answer
//    (the whole run's ratio, ramp-up included, is printed beside it);
//  - converge_s: time until the first 2 s window whose goodput is ≥ 0.9 × K / L;
//  - r429_share: 429 answers ÷ all the stub's answers; failed: user calls that failed.
// The last line is the summary CI and humans grep for. `npm run bench:adaptive -- 20` runs K = 20 only.
import type { OpenAiStubStats } from "../src/stub/openai-stub.js";
import { freshClient, startStubProcess } from "./support.js";

const LATENCY_MS = 300;
const CALLERS = 60;
const CALLS_EACH = 10;
const WINDOW_MS = 2_000;

interface CaseResult {
  k: number;
  headers: boolean;
  ratio: number;
  wholeRunRatio: number;
  failed: number;
  r429Share: number;
  convergeS: number;
  finalLimit: number;
  peak: number;
}

/** Seconds from the start to the end of the first window with ≥ 0.9 × capacity of successes. */
function convergence(successAt: number[], capacityPerMs: number): number {
  const needed = 0.9 * capacityPerMs * WINDOW_MS;
  for (let first = 0, last = 0; last < successAt.length; last++) {
    while (successAt[last]! - successAt[first]! > WINDOW_MS) first++;
    if (last - first + 1 >= needed) return Math.max(successAt[last]!, WINDOW_MS) / 1000;
  }
  return Number.POSITIVE_INFINITY;
}

async function runCase(k: number, headers: boolean): Promise<CaseResult> {
  const stub = await startStubProcess([
    "--latency",
    String(LATENCY_MS),
    "--concurrency-limit",
    String(k),
    ...(headers ? ["--rate-limit-headers"] : []),
  ]);
  const control = stub.url.replace(/\/v1$/, "/_stub");
  process.env["OPENAI_BASE_URL"] = stub.url;
  process.env["LLM_POOL_SIZE"] = "auto";
  const client = freshClient({ timeoutMs: 120_000 });

  const successAt: number[] = [];
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, caller) => {
      for (let call = 0; call < CALLS_EACH; call++) {
        try {
          await client.generateResponseAsync([{ role: "user", content: `caller ${caller} call ${call}` }]);
          successAt.push(performance.now() - started);
        } catch {
          failed++;
        }
      }
    }),
  );
  const stats = (await fetch(`${control}/stats`).then((response) => response.json())) as OpenAiStubStats;
  stub.child.kill("SIGTERM");

  const capacityPerMs = k / LATENCY_MS;
  const convergeS = convergence(successAt, capacityPerMs);
  const lastMs = successAt[successAt.length - 1] ?? 0;
  const afterConvergence = successAt.filter((at) => at >= convergeS * 1000 - WINDOW_MS).length;
  const steadyMs = lastMs - (convergeS * 1000 - WINDOW_MS);
  return {
    k,
    headers,
    ratio: steadyMs > 0 ? afterConvergence / steadyMs / capacityPerMs : 0,
    wholeRunRatio: successAt.length / lastMs / capacityPerMs,
    failed,
    r429Share: (stats.byStatus["429"] ?? 0) / Math.max(1, stats.requests),
    convergeS,
    finalLimit: client.getMetrics().poolSize,
    peak: stats.peakInFlight,
  };
}

const capacities = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [2, 5, 20];
const results: CaseResult[] = [];
for (const headers of [false, true]) {
  for (const k of capacities) {
    const result = await runCase(k, headers);
    results.push(result);
    console.log(
      `K=${String(k).padStart(2)} headers=${headers ? "yes" : "no "}  goodput_ratio=${result.ratio.toFixed(3)} ` +
        `(whole run ${result.wholeRunRatio.toFixed(3)})  failed=${result.failed}  r429_share=${(result.r429Share * 100).toFixed(2)}%  ` +
        `converge_s=${result.convergeS.toFixed(1)}  final_limit=${result.finalLimit}  upstream_peak=${result.peak}`,
    );
  }
}
delete process.env["LLM_POOL_SIZE"];

const withoutHeaders = results.filter((result) => !result.headers);
const withHeaders = results.filter((result) => result.headers);
console.log(
  `adaptive: worst_goodput_ratio=${Math.min(...results.map((r) => r.ratio)).toFixed(3)} ` +
    `failed=${results.reduce((sum, r) => sum + r.failed, 0)} ` +
    `r429_share=${(Math.max(...withoutHeaders.map((r) => r.r429Share)) * 100).toFixed(2)}%/` +
    `${(Math.max(...withHeaders.map((r) => r.r429Share)) * 100).toFixed(2)}% ` +
    `converge_s=${Math.max(...results.map((r) => r.convergeS)).toFixed(1)}`,
);
