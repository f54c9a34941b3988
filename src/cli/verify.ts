import { InvalidArgumentError, Option, type Command } from "commander";
import { paintFor } from "../report/colour.js";
import { parseRoute, type Route } from "../verify/route.js";
import { folder } from "./arguments.js";
import { EXIT, type ExitCode } from "./exit-codes.js";
import type { Io } from "./index.js";

interface VerifyCommandOptions {
  start?: string;
  route?: Route;
  body?: string;
  requests: number;
  poolSize: number;
  latency: number;
  json?: boolean;
}

function wholeNumber(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`must be a whole number, ${min} or more`);
    return n;
  };
}

function route(value: string): Route {
  const parsed = parseRoute(value);
  if (!parsed) throw new InvalidArgumentError('must be a method and a path, e.g. "POST /chat"');
  return parsed;
}

/** `verify <dir>`; `ran` learns the folder (for error messages) and the exit code. */
export function addVerifyCommand(program: Command, io: Io, ran: (dir: string, code?: ExitCode) => void): void {
  program
    .command("verify")
    .argument("<dir>", "the migrated server's folder", folder)
    .description("boot the migrated server against a local stub upstream and check that the pool works")
    .option("--start <command>", "shell command that starts the server, reading PORT (default: package.json start, uvicorn for FastAPI, aiohttp's runner for aiohttp)")
    .addOption(new Option("--route <route>", 'route to load, e.g. "POST /chat" (default: the route the migration gated)').argParser(route))
    .option("--body <json>", "JSON body to send; <i> becomes the request's number (default: a chat message from user verify-<i>)")
    .addOption(new Option("--requests <n>", "concurrent requests to send").argParser(wholeNumber(1)).default(9))
    .addOption(new Option("--pool-size <n>", "LLM_POOL_SIZE of the server under test").argParser(wholeNumber(1)).default(3))
    .addOption(new Option("--latency <ms>", "latency of the stub upstream").argParser(wholeNumber(0)).default(200))
    .option("--json", "print a machine-readable report")
    .addHelpText("after", "\nExit codes: 0 every check passed, 6 a check failed, 2 usage error, 3 bad input (see llm-migrate --help)\n")
    .action(async (dir: string, options: VerifyCommandOptions) => {
      ran(dir);
      const progress = (line: string) => io.stderr.write(`llm-migrate verify: ${line}\n`);
      // Loaded when run: the verifier pulls in the parsers, which --help does not need.
      const { BodyError, verifyJson, verifyServer, verifyTable, verifyText } = await import("../verify/index.js");
      let result;
      try {
        result = await verifyServer(
          { dir, start: options.start, route: options.route, body: options.body, requests: options.requests, poolSize: options.poolSize, latencyMs: options.latency },
          progress,
        );
      } catch (error) {
        if (!(error instanceof BodyError)) throw error;
        io.stderr.write(`llm-migrate: ${error.message} (see llm-migrate verify --help)\n`);
        ran(dir, EXIT.usage);
        return;
      }
      const paint = paintFor(io.stdout, io.env);
      const columns = (io.stdout as { columns?: number }).columns;
      io.stdout.write(options.json ? verifyJson(result) : io.stdout.isTTY ? verifyTable(result, paint, columns) : verifyText(result, paint));
      ran(dir, result.ok ? EXIT.ok : EXIT.verifyFailed);
    });
}
