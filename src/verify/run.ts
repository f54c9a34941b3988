/**
 * `llm-migrate verify`: boot the migrated server against the bundled stub upstream, send a burst of
 * concurrent requests to the route it migrated, judge what happened; then boot it again with
 * FORCE_LEGACY_LLM=true and check that the original path is taken.
 */
import { startOpenAiStub, type OpenAiStub } from "../stub/openai-stub.js";
import {
  answeredCheck,
  concurrencyCheck,
  expectedWallMs,
  gatedCheck,
  legacyFlagCheck,
  metricsCheck,
  skipped,
  wallTimeCheck,
  type Answer,
  type Check,
  type MetricsRead,
  type Phase,
  type VerifySettings,
} from "./checks.js";
import { BootError, bootServer, stoppingServersOnSignals, type ServerProcess } from "./processes.js";
import { formatRoute, type Route } from "./routes.js";
import { findTarget } from "./target.js";

export interface VerifyOptions {
  dir: string;
  /** Shell command that starts the server (default: package.json start, uvicorn for FastAPI, aiohttp's runner for aiohttp). */
  start?: string;
  route?: Route;
  /** JSON body; every `<i>` becomes the request's number. Default: a one-message chat for user verify-<i>. */
  body?: string;
  requests: number;
  poolSize: number;
  latencyMs: number;
}

export interface PhaseSummary {
  env: Record<string, string>;
  port: number;
  wallMs: number;
  statuses: number[];
  upstreamPeakInFlight: number;
  upstreamRequests: number;
  metrics?: Record<string, unknown>;
}

export interface VerifyResult {
  dir: string;
  start: string;
  route: string;
  otherRoutes: string[];
  requests: number;
  poolSize: number;
  latencyMs: number;
  expectedWallMs: number;
  ok: boolean;
  checks: Check[];
  migrated?: PhaseSummary;
  legacy?: PhaseSummary;
}

/** Sent before each burst so that a cold start (module loading, first connection) is not timed. */
const WARM_UP = "warmup";

export class BodyError extends Error {}

export function defaultBody(userField: string): string {
  return JSON.stringify({ [userField]: "verify-<i>", messages: [{ role: "user", content: "hello <i>" }] });
}

export function bodyFor(template: string, i: number | string): string {
  const body = template.replaceAll("<i>", String(i));
  try {
    JSON.parse(body);
  } catch {
    throw new BodyError(`--body is not JSON once <i> is replaced: ${body}`);
  }
  return body;
}

async function send(url: string, route: Route, body: string, timeoutMs: number): Promise<Answer> {
  try {
    const response = await fetch(url + route.path, {
      method: route.method,
      headers: route.method === "GET" || route.method === "HEAD" ? {} : { "content-type": "application/json" },
      body: route.method === "GET" || route.method === "HEAD" ? undefined : body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    return { status: response.status, excerpt: text.slice(0, 120).replace(/\s+/g, " ") };
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    return { status: 0, excerpt: (cause ?? (error as Error)).message };
  }
}

async function readMetrics(url: string): Promise<MetricsRead> {
  try {
    const response = await fetch(`${url}/metrics/llm`, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    if (response.status !== 200) return { ok: false, problem: `GET /metrics/llm answered ${response.status}` };
    try {
      return { ok: true, json: JSON.parse(text) as Record<string, unknown> };
    } catch {
      return { ok: false, problem: "GET /metrics/llm did not answer JSON" };
    }
  } catch (error) {
    return { ok: false, problem: `GET /metrics/llm failed: ${(error as Error).message}` };
  }
}

function stubEnv(stub: OpenAiStub, poolSize: number): Record<string, string> {
  return {
    OPENAI_BASE_URL: stub.url,
    // The stub takes any key; the user's real key is never sent anywhere.
    OPENAI_API_KEY: "sk-llm-migrate-verify",
    LLM_POOL_SIZE: String(poolSize),
    LLM_CANARY_PERCENT: "100",
  };
}

/** The environment of the server: ours, without flags the user may have exported that would change the path taken. */
function serverEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ["FORCE_LEGACY_LLM", "DISABLE_POOL", "EMERGENCY_MODE"]) delete env[name];
  return { ...env, ...extra };
}

export async function verifyServer(options: VerifyOptions, progress: (line: string) => void = () => undefined): Promise<VerifyResult> {
  if (options.body !== undefined) bodyFor(options.body, 0); // a bad --body is a usage error, found before any work
  const target = await findTarget(options.dir, { start: options.start, route: options.route });
  const template = options.body ?? defaultBody(target.userField);
  const bodies = Array.from({ length: options.requests }, (_, i) => bodyFor(template, i));
  const warmUpBody = bodyFor(template, WARM_UP);
  const settings: VerifySettings = { route: target.route, requests: options.requests, poolSize: options.poolSize, latencyMs: options.latencyMs };
  const timeoutMs = Math.max(30_000, options.latencyMs * options.requests * 3);
  const result: VerifyResult = {
    dir: target.rootDir,
    start: target.start,
    route: formatRoute(target.route),
    otherRoutes: target.otherRoutes.map(formatRoute),
    requests: options.requests,
    poolSize: options.poolSize,
    latencyMs: options.latencyMs,
    expectedWallMs: expectedWallMs(settings),
    ok: false,
    checks: [gatedCheck(target.notGated)],
  };

  const stub = await startOpenAiStub({ latencyMs: options.latencyMs });
  const runPhase = async (extra: Record<string, string>): Promise<{ phase: Phase; summary: PhaseSummary }> => {
    const env = { ...stubEnv(stub, options.poolSize), ...extra };
    const server: ServerProcess = await bootServer({ command: target.start, cwd: target.rootDir, env: serverEnv(env) });
    progress(`booted \`${target.start}\` on port ${server.port} (process group ${server.pid})${extra.FORCE_LEGACY_LLM ? " with FORCE_LEGACY_LLM=true" : ""}`);
    try {
      await send(server.url, target.route, warmUpBody, timeoutMs);
      const metricsBefore = await readMetrics(server.url);
      stub.reset();
      const started = performance.now();
      const answers = await Promise.all(bodies.map((body) => send(server.url, target.route, body, timeoutMs)));
      const wallMs = performance.now() - started;
      const upstream = stub.stats();
      const metricsAfter = await readMetrics(server.url);
      const phase: Phase = { answers, wallMs, upstreamPeakInFlight: upstream.peakInFlight, upstreamRequests: upstream.requests, metricsBefore, metricsAfter };
      const summary: PhaseSummary = {
        env,
        port: server.port,
        wallMs: Math.round(wallMs),
        statuses: answers.map((a) => a.status),
        upstreamPeakInFlight: upstream.peakInFlight,
        upstreamRequests: upstream.requests,
        metrics: metricsAfter.json,
      };
      return { phase, summary };
    } finally {
      await server.stop();
    }
  };

  await stoppingServersOnSignals(
    async () => {
      try {
        progress(`sending ${options.requests} concurrent requests to ${result.route}, upstream stub latency ${options.latencyMs} ms, pool ${options.poolSize}`);
        let migrated: Awaited<ReturnType<typeof runPhase>>;
        try {
          migrated = await runPhase({});
        } catch (error) {
          if (!(error instanceof BootError)) throw error;
          result.checks.push({ name: "boots", status: "fail", message: bootFailure(error) });
          for (const name of ["answered", "concurrency", "wall time", "metrics", "legacy flag"] as const) result.checks.push(skipped(name, "the server did not boot"));
          return;
        }
        result.migrated = migrated.summary;
        result.checks.push(
          { name: "boots", status: "pass", message: `\`${target.start}\` listened on 127.0.0.1:${migrated.summary.port}` },
          answeredCheck(migrated.phase),
          concurrencyCheck(migrated.phase, settings),
          wallTimeCheck(migrated.phase, settings),
          metricsCheck(migrated.phase, settings),
        );
        try {
          const legacy = await runPhase({ FORCE_LEGACY_LLM: "true" });
          result.legacy = legacy.summary;
          result.checks.push(legacyFlagCheck(legacy.phase, settings));
        } catch (error) {
          if (!(error instanceof BootError)) throw error;
          result.checks.push({ name: "legacy flag", status: "fail", message: `FORCE_LEGACY_LLM=true: ${bootFailure(error)}` });
        }
      } finally {
        await stub.close();
      }
    },
    () => stub.close(),
  );
  result.ok = result.checks.every((check) => check.status === "pass");
  return result;
}

/** The message and the server's last words, on one line. */
function bootFailure(error: BootError): string {
  const last = error.output.trim().split("\n").slice(-3).join(" | ");
  return last ? `${error.message}: ${last}` : error.message;
}
