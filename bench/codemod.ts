// Codemod benchmark (not a test): `npm run bench:codemod`. Generates synthetic Express projects
// of 1,000 and 5,000 files and one holding a single 1 MB file (bench/codemod-tree.ts), then, in
// the same run, times the built CLI's `scan` and `apply --dry-run` on each and ast-grep rewriting
// the same calls, and `llm-migrate --help`. Peak RSS comes from GNU time when it is installed.
// The wall times are what the issue asks for; the CPU times (user + system) beside them say how
// much of a wall time was waiting for a busy machine. The last line is the summary to grep.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CALL_PATTERN, writeBigFileProject, writeExpressProject } from "./codemod-tree.js";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(REPO, "bin", "llm-migrate.js");
const AST_GREP = join(REPO, "node_modules", ".bin", "ast-grep");
const GNU_TIME = "/usr/bin/time";
/** Runs of each timing on the 5k tree; the median is reported. */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Run {
  seconds: number;
  rssMb?: number;
  /** User + system CPU seconds: on a shared machine, steadier than the wall time. */
  cpuSeconds?: number;
}

/** Wall time (and peak RSS and CPU time) of one command, its output thrown away; a failure stops the bench. */
function timed(command: string, args: string[]): Run {
  const timeFile = join(scratch, "time");
  const withGnuTime = existsSync(GNU_TIME);
  const [file, argv] = withGnuTime ? [GNU_TIME, ["-f", "%M %U %S", "-o", timeFile, command, ...args]] : [command, args];
  const started = process.hrtime.bigint();
  const run = spawnSync(file, argv, { stdio: ["ignore", "ignore", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (run.status !== 0) throw new Error(`${[command, ...args].join(" ")} exited with ${run.status}: ${run.stderr?.toString().slice(0, 2000)}`);
  if (!withGnuTime) return { seconds };
  const [rssKb, user, system] = readFileSync(timeFile, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
  return { seconds, rssMb: rssKb! / 1024, cpuSeconds: user! + system! };
}

function median(runs: Run[]): Run {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  const middle = sorted[Math.floor(sorted.length / 2)]!;
  return { seconds: middle.seconds, cpuSeconds: middle.cpuSeconds, rssMb: Math.max(...runs.map((r) => r.rssMb ?? 0)) || undefined };
}

function repeat(times: number, run: () => Run): Run {
  return median(Array.from({ length: times }, run));
}

const llmMigrate = (...args: string[]) => timed(process.execPath, [BIN, ...args]);
/** The same calls rewritten by ast-grep: every `openai.chat.completions.create(…)` wrapped in the gate. */
const astGrep = (dir: string) =>
  timed(AST_GREP, ["run", "--lang", "ts", "--pattern", CALL_PATTERN, "--rewrite", `gateLlmCall({}, (options) => ${CALL_PATTERN.replace("$$$ARGS", "$$$ARGS, options")})`, dir]);

const scratch = mkdtempSync(join(tmpdir(), "llm-migrate-bench-codemod-"));
const line = (label: string, run: Run, files?: number) =>
  console.log(
    `  ${label.padEnd(28)} ${run.seconds.toFixed(2).padStart(7)} s` +
      (run.cpuSeconds === undefined ? "" : `  ${run.cpuSeconds.toFixed(2).padStart(6)} s CPU`) +
      (files ? `  ${Math.round(files / run.seconds).toString().padStart(6)} files/s` : "") +
      (run.rssMb ? `  ${run.rssMb.toFixed(0).padStart(5)} MB RSS` : ""),
  );

try {
  const help = repeat(RUNS, () => llmMigrate("--help"));
  console.log("llm-migrate --help:");
  line("help", help);

  const summary: Record<number, { scan: Run; astGrep: Run }> = {};
  for (const files of [1000, 5000]) {
    const dir = join(scratch, `express-${files}`);
    await writeExpressProject(dir, files);
    const times = files === 5000 ? RUNS : 1;
    const scan = repeat(times, () => llmMigrate("scan", dir, "--json"));
    const dryRun = repeat(times, () => llmMigrate("apply", dir, "--dry-run"));
    const peer = repeat(times, () => astGrep(dir));
    console.log(`${files} files (${times === 1 ? "one run" : `median of ${times}`}):`);
    line("llm-migrate scan", scan, files);
    line("llm-migrate apply --dry-run", dryRun, files);
    line("ast-grep rewrite", peer, files);
    summary[files] = { scan, astGrep: peer };
  }

  const bigDir = join(scratch, "big-file");
  await writeBigFileProject(bigDir, 1_000_000);
  const bigScan = llmMigrate("scan", bigDir, "--json");
  const bigDryRun = llmMigrate("apply", bigDir, "--dry-run");
  const bigPeer = astGrep(bigDir);
  console.log("one 1 MB file:");
  line("llm-migrate scan", bigScan);
  line("llm-migrate apply --dry-run", bigDryRun);
  line("ast-grep rewrite", bigPeer);

  const { scan, astGrep: peer } = summary[5000]!;
  console.log(
    `codemod: files=5000 scan_s=${scan.seconds.toFixed(2)} files_per_s=${Math.round(5000 / scan.seconds)} ` +
      `rss_mb=${scan.rssMb?.toFixed(0) ?? "n/a"} vs_ast_grep=${(scan.seconds / peer.seconds).toFixed(2)} ` +
      `big_file_s=${bigScan.seconds.toFixed(2)} help_s=${help.seconds.toFixed(2)}`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
