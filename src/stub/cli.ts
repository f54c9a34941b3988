#!/usr/bin/env node
/**
 * Run the OpenAI-compatible stub as its own process (e2e tests, the demo, benchmarks):
 *   node dist/src/stub/cli.js --port 0 --latency 300 --concurrency-limit 10 [--rate-limit-headers] [--tokens-per-minute N] [--serving-limit N]
 * Drive it from outside with GET /_stub/stats, POST /_stub/config (JSON options), POST /_stub/reset.
 * Prints `openai-stub listening on http://127.0.0.1:PORT/v1` once ready; stops on SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { startOpenAiStub } from "./openai-stub.js";

function count(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    console.error(`openai-stub: --${name} must be a whole number ≥ 0, got "${value}"`);
    process.exit(2);
  }
  return parsed;
}

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        port: { type: "string" },
        host: { type: "string" },
        latency: { type: "string" },
        "concurrency-limit": { type: "string" },
        "retry-after-ms": { type: "string" },
        "rate-limit-headers": { type: "boolean" },
        "tokens-per-minute": { type: "string" },
        "serving-limit": { type: "string" },
      },
      strict: true,
    });
  } catch (err) {
    console.error(`openai-stub: ${(err as Error).message}`);
    console.error(
      "usage: openai-stub [--port N] [--host H] [--latency MS] [--concurrency-limit N] [--retry-after-ms MS] [--rate-limit-headers] [--tokens-per-minute N] [--serving-limit N]",
    );
    process.exit(2);
  }
}

const { values } = parseCommandLine();

const stub = await startOpenAiStub({
  port: count("port", values.port),
  host: values.host,
  latencyMs: count("latency", values.latency),
  concurrencyLimit: count("concurrency-limit", values["concurrency-limit"]),
  retryAfterMs: count("retry-after-ms", values["retry-after-ms"]),
  rateLimitHeaders: values["rate-limit-headers"],
  tokensPerMinute: count("tokens-per-minute", values["tokens-per-minute"]),
  servingLimit: count("serving-limit", values["serving-limit"]),
});
console.log(`openai-stub listening on ${stub.url}`);

const stop = () => {
  void stub.close().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
