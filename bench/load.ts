// One timed load run with autocannon against a running server, and the figures the table shows.
import autocannon from "autocannon";
import { execFileSync } from "node:child_process";
import { groupMembers } from "../src/verify/processes.js";

export interface LoadSettings {
  url: string;
  body: string;
  connections: number;
  durationSeconds: number;
  timeoutSeconds: number;
  /** Process group of the server, whose CPU time is measured. */
  serverGroup: number;
}

export interface LoadFigures {
  /** Response times of answered requests, in ms. */
  latenciesMs: number[];
  ok: number;
  non2xx: number;
  timeouts: number;
  /** Connection errors other than timeouts. */
  errors: number;
  /** Over answered requests with every timeout counted at the timeout. */
  meanMs: number;
  p95Ms: number;
  successRate: number;
  /** 2xx answers per second. */
  rps: number;
  /** CPU of the server's processes (and of the children they waited for, e.g. curl) over the run, % of one core. */
  cpuPercent: number;
}

const clockTicksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

function groupCpuTicks(pgid: number): number {
  return (groupMembers(pgid) ?? []).reduce((sum, member) => sum + member.cpuTicks, 0);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function runLoad(settings: LoadSettings): Promise<LoadFigures> {
  const latenciesMs: number[] = [];
  let ok = 0;
  const cpuBefore = groupCpuTicks(settings.serverGroup);
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((done, fail) => {
    const instance = autocannon(
      {
        url: settings.url,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: settings.body,
        connections: settings.connections,
        duration: settings.durationSeconds,
        timeout: settings.timeoutSeconds,
      },
      (error, finished) => (error ? fail(error) : done(finished)),
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      latenciesMs.push(responseTime);
      if (statusCode >= 200 && statusCode < 300) ok++;
    });
  });
  const elapsedSeconds = (performance.now() - started) / 1000;
  const cpuSeconds = (groupCpuTicks(settings.serverGroup) - cpuBefore) / clockTicksPerSecond;

  const timeoutMs = settings.timeoutSeconds * 1000;
  const seen = [...latenciesMs, ...Array<number>(result.timeouts).fill(timeoutMs)].sort((a, b) => a - b);
  const attempts = latenciesMs.length + result.errors;
  return {
    latenciesMs,
    ok,
    non2xx: latenciesMs.length - ok,
    timeouts: result.timeouts,
    errors: result.errors - result.timeouts,
    meanMs: seen.length === 0 ? 0 : seen.reduce((a, b) => a + b, 0) / seen.length,
    p95Ms: percentile(seen, 95),
    successRate: attempts === 0 ? 0 : ok / attempts,
    rps: ok / settings.durationSeconds,
    cpuPercent: (cpuSeconds / elapsedSeconds) * 100,
  };
}
