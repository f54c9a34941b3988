import { configDefaults, defineConfig } from "vitest/config";
import SlowFirstSequencer from "./test/slow-first.js";

/**
 * Test files that run the engine in the test's own process and touch no global state (no mocks,
 * no environment, no servers of their own). They share a process per worker instead of each
 * importing TypeScript and ts-morph again, which costs about two seconds of CPU a file. A new
 * file runs isolated unless it is added here.
 */
const inProcess = [
  "test/transforms/**/*.test.ts",
  "test/engine/**/*.test.ts",
  "test/languages/**/*.test.ts",
  "test/fidelity/{churn,dependencies,files,package-json,placement}.test.ts",
  "test/python/fixtures.test.ts",
  "test/python/reports.test.ts",
  "test/cli/report.test.ts",
];

/**
 * The runtime's own tests: each starts from a fresh process-wide client and stub (test/runtime/
 * support.ts resets both after every test), so they too share a process per worker, apart from the
 * engine's tests. Loading the OpenAI SDK and the runtime once per worker instead of once per file
 * saves about a quarter of their CPU.
 */
const runtime = ["test/runtime/**/*.test.ts", "test/runtime-faults/**/*.test.ts", "test/stub/**/*.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Test files run side by side. Vitest's default on 2 cores is one file at a time, but many
    // files spend their time waiting on servers and child processes, not on the CPU.
    maxWorkers: 3,
    sequence: { sequencer: SlowFirstSequencer },
    projects: [
      { extends: true, test: { name: "in-process", include: inProcess, isolate: false } },
      { extends: true, test: { name: "runtime", include: runtime, isolate: false } },
      { extends: true, test: { name: "isolated", include: ["test/**/*.test.ts"], exclude: [...configDefaults.exclude, ...inProcess, ...runtime] } },
    ],
  },
});
