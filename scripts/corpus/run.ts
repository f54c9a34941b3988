/**
 * `npm run corpus -- <folder of checkouts> [--manifest <file>] [--only a,b] [--jobs N] [--json <file>]`
 *
 * Runs llm-migrate (from this working tree's source) over every checkout the manifest names,
 * prints what went wrong, a table, the churn figure (`churn: median …`), and as its last line
 * `corpus: repos=N clean=M sites=S gated=G left=L missed=X broke=B`.
 */
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import pLimit from "p-limit";
import { loadManifest, type CorpusEntry } from "./manifest.js";
import { describeOutcome } from "./match.js";
import { evaluateRepo, type Cli, type CliResult, type RepoResult } from "./evaluate.js";
import { churnLine, summaryLine, table } from "./table.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const TIMEOUT_MS = 180_000;

/** The CLI from source, so the corpus needs no build and always runs what is checked out. */
export const sourceCli: Cli = (args) =>
  new Promise<CliResult>((done) => {
    const tsx = import.meta.resolve("tsx");
    const entry = join(ROOT, "scripts", "corpus", "cli-entry.ts");
    const child = spawn(process.execPath, ["--import", tsx, entry, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", LLM_MIGRATE_DEBUG: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      done({ code: code ?? -1, stdout, stderr: signal ? `killed by ${signal} after ${TIMEOUT_MS / 1000}s\n${stderr}` : stderr });
    });
  });

interface Options {
  folder: string;
  manifest: string;
  only?: Set<string>;
  jobs: number;
  json?: string;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Partial<Options> = { manifest: join(ROOT, "corpus", "manifest.json"), jobs: 2 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === "--manifest") options.manifest = resolve(value());
    else if (arg === "--only") options.only = new Set(value().split(","));
    else if (arg === "--jobs") options.jobs = Math.max(1, Number(value()) || 1);
    else if (arg === "--json") options.json = resolve(value());
    else if (arg.startsWith("-")) throw new Error(`unknown option ${arg}`);
    else options.folder = resolve(arg);
  }
  if (!options.folder) throw new Error("usage: npm run corpus -- <folder of checkouts> [--manifest file] [--only a,b] [--jobs N] [--json file]");
  return options as Options;
}

function details(result: RepoResult): string[] {
  const lines: string[] = [];
  for (const site of result.sites) {
    if (site.ok) continue;
    const got = describeOutcome(site.outcome);
    const at = site.reportedAt ? ` (reported at ${site.reportedAt.file}:${site.reportedAt.line})` : "";
    lines.push(`  ${site.outcome.kind === "missed" ? "MISSED" : "WRONG "} ${site.site.file}:${site.site.line} ${site.site.call}: expected ${site.site.expectText}, got ${got}${at}`);
  }
  for (const problem of result.breakage) lines.push(`  BROKE  ${problem}`);
  for (const note of result.notes) lines.push(`  note   ${note}`);
  if (lines.length > 0) lines.push(`  tool   ${result.toolSaid}`);
  return lines;
}

export async function runCorpus(entries: readonly CorpusEntry[], folder: string, jobs: number, cli: Cli = sourceCli): Promise<{ results: RepoResult[]; absent: string[] }> {
  const present = entries.filter((entry) => existsSync(join(folder, entry.name)));
  const absent = entries.filter((entry) => !present.includes(entry)).map((entry) => entry.name);
  const limit = pLimit(jobs);
  const results = await Promise.all(
    present.map((entry) =>
      limit(async () => {
        try {
          return await evaluateRepo(entry, join(folder, entry.name), cli);
        } catch (error) {
          const sites = entry.sites.map((site) => ({ site, outcome: { kind: "missed" } as const, ok: false }));
          return { entry, sites, scanExit: -1, applyExit: -1, rollbackExit: undefined, types: "n/a", breakage: [`runner error: ${(error as Error).message}`], notes: [], toolSaid: "", clean: false };
        }
      }),
    ),
  );
  return { results, absent };
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const entries = loadManifest(options.manifest).filter((entry) => !options.only || options.only.has(entry.name));
  const { results, absent } = await runCorpus(entries, options.folder, options.jobs);
  for (const result of results) {
    const lines = details(result);
    if (lines.length > 0) console.log(`${result.entry.name} (${result.entry.repo}${result.entry.subdir ? "/" + result.entry.subdir : ""})\n${lines.join("\n")}`);
  }
  if (absent.length > 0) console.log(`not checked out (see corpus/README.md): ${absent.join(", ")}`);
  if (options.json) writeFileSync(options.json, JSON.stringify(results, null, 2) + "\n");
  console.log(table(results));
  for (const result of results.filter((r) => r.churn && r.churn.perSite > 12)) {
    console.log(`churn over 12: ${result.entry.name} ${result.churn!.perSite.toFixed(1)} lines per site (${result.churn!.changedLines} changed, ${result.churn!.fixedLines} fixed, ${result.churn!.rewrittenSites} sites)`);
  }
  console.log(churnLine(results));
  console.log(summaryLine(results));
  return results.length > 0 && results.every((result) => result.clean) ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().then(
    (code) => (process.exitCode = code),
    (error: Error) => {
      console.error(`corpus: ${error.message}`);
      process.exitCode = 2;
    },
  );
}
