import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Test files run side by side. Vitest's default on 2 cores is one file at a time, but many
    // files spend their time waiting on servers and child processes, not on the CPU.
    maxWorkers: 3,
  },
});
