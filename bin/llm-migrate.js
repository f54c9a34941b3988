#!/usr/bin/env node
import { main } from "../dist/src/cli/index.js";

// `llm-migrate apply . | head`: a reader that hangs up early ends the output, not with a stack trace.
process.stdout.on("error", (error) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await main(process.argv);
