import { defineConfig } from "vitest/config";
import SlowFirstSequencer from "./test/slow-first.js";

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Test files run side by side. Vitest's default on 2 cores is one file at a time, but many
    // files spend their time waiting on servers and child processes, not on the CPU. On two
    // cores four workers kept them busiest (a clean clone: 134 s with three, 121 s with four,
    // 130 s with five, where each worker's own imports start to cost more than the overlap gives).
    maxWorkers: 4,
    // A worker's files share its process instead of each loading TypeScript, ts-morph, the Python
    // parser or the OpenAI SDK again (about two seconds of CPU a file for the engine's tests). So a
    // test leaves the process as it found it: the runtime's tests reset the process-wide client,
    // the stub and the environment around every test (test/runtime/support.ts), the engine's touch
    // no global state, and end-to-end tests keep their servers in child processes they stop.
    isolate: false,
    sequence: { sequencer: SlowFirstSequencer },
    globalSetup: ["./test/global-setup.ts"],
  },
});
