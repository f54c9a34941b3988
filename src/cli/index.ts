import { join } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { MigrateError } from "../engine/errors.js";
import { toolPackage } from "../engine/package-root.js";
import { paintFor } from "../report/colour.js";
import { folder } from "./arguments.js";
import type { ApplyCommandOptions, DetectionOptions, Output } from "./commands.js";
import { EXIT, EXIT_CODES_HELP, type ExitCode } from "./exit-codes.js";
import { progressOn, type Progress } from "./progress.js";
import { addVerifyCommand } from "./verify.js";

export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

function poolSize(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("must be a whole number, 1 or more");
  return n;
}

function canaryPercent(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError("must be a percentage from 0 to 100");
  return n;
}

function identifier(value: string): string {
  if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(value)) throw new InvalidArgumentError("must be a name such as llmClient or generateResponse");
  return value;
}

/**
 * The commands, loaded when one runs: they pull in TypeScript, ts-morph and tree-sitter, which
 * `--help`, `--version` and usage errors do not need.
 */
const commands = () => import("./commands.js");

/**
 * Runs the CLI and resolves to its exit code (see ./exit-codes.ts). Never reads stdin and never
 * calls process.exit, so output is flushed.
 */
export async function main(argv: readonly string[], io: Io = process): Promise<ExitCode> {
  const out: Output = { write: (text) => io.stdout.write(text), paint: paintFor(io.stdout, io.env) };
  let exitCode: ExitCode = EXIT.ok;
  let dirArg = ".";
  let progress: Progress | undefined;
  /** Output of scan and apply: with a progress line on a terminal, unless the report is JSON. */
  const reporting = (options: DetectionOptions): Output => {
    progress = options.json ? undefined : progressOn(io.stderr);
    return { ...out, progress };
  };

  const program = new Command("llm-migrate")
    .description("Migrate a chat backend's one shared LLM client to a process-wide, semaphore-gated async client")
    .version(toolPackage().version, "-V, --version")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`llm-migrate: ${text.replace(/^error: /, "").trim()} (see llm-migrate --help)\n`),
    })
    .addHelpText("after", EXIT_CODES_HELP);

  // scan takes every option that changes what apply would write, so that it shows the same plan.
  const detection = (command: Command): Command =>
    command
      .option("--entry <file>", "entry file of the server, relative to <dir> (default: detected)")
      .option("--client <name>", "name of the shared LLM client (default: detected)", identifier)
      .option("--method <name>", "wrapper method to gate, e.g. generateResponse (default: detected)", identifier)
      .addOption(new Option("--pool-size <n>", "default of LLM_POOL_SIZE").argParser(poolSize).default(10))
      .addOption(new Option("--canary <percent>", "default of LLM_CANARY_PERCENT").argParser(canaryPercent).default(100))
      .option("--json", "print a machine-readable report");
  const dirArgument = (command: Command): Command => command.argument("<dir>", "the server's folder", folder);

  detection(dirArgument(program.command("scan")).description("show what apply would do, writing nothing"))
    .option("--check", "exit 1 while apply has calls to gate, 7 while an LLM call is left for a human (for CI)")
    .action(async (dir: string, options: DetectionOptions & { check?: boolean }) => {
      dirArg = dir;
      exitCode = await (await commands()).scanCommand(dir, options, reporting(options));
    });

  detection(dirArgument(program.command("apply")).description("migrate the server (backs up every file it changes)"))
    .option("--dry-run", "print the unified diff and write nothing")
    .option("--check", "exit 1 when there are changes to make, write nothing")
    .option("--allow-dirty", "write even when the git tree has uncommitted changes")
    .option("--no-format", "do not format changed files with the project's Prettier config")
    .action(async (dir: string, options: ApplyCommandOptions) => {
      dirArg = dir;
      exitCode = await (await commands()).applyCommand(dir, options, reporting(options));
    });

  dirArgument(program.command("rollback"))
    .description("undo the last apply: restore changed files byte for byte, remove created ones")
    .action(async (dir: string) => {
      dirArg = dir;
      exitCode = await (await commands()).rollbackCommand(dir, out);
    });

  addVerifyCommand(program, io, (dir, code) => {
    dirArg = dir;
    if (code !== undefined) exitCode = code;
  });

  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    progress?.done();
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (io.env.LLM_MIGRATE_DEBUG === "1") io.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    if (error instanceof MigrateError) {
      const where = error.path === "." ? dirArg : join(dirArg, error.path);
      io.stderr.write(`llm-migrate: ${where}: ${error.message}\n`);
      return error.exitCode as ExitCode;
    }
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    io.stderr.write(`llm-migrate: internal error: ${message} (set LLM_MIGRATE_DEBUG=1 for details)\n`);
    return EXIT.bug;
  }
}
