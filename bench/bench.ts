// Before/after benchmark of the bundled examples (not a test): `npm run bench`.
// Each example is copied to a temp dir, started for real and loaded with autocannon (20 users,
// upstream stub latency 200 ms, a 5 s client timeout standing in for a proxy's 504), then
// migrated by the CLI and loaded again. Prints one table, writes the latency chart, updates the
// "latest run" block of docs/bench.md and ends with the `bench:` line CI and humans grep for.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { bootServer, stoppingServersOnSignals, type ServerProcess } from "../src/verify/processes.js";
import { latencyChartSvg, type Panel } from "./latency-chart.js";
import { chatBody, copyExample, migrate, PYTHON, repoRoot, START } from "./examples.js";
import { runLoad, type LoadFigures } from "./load.js";

const USERS = 20;
const POOL_SIZE = 10;
const LATENCY_MS = 200;
const TIMEOUT_SECONDS = 5;
const DURATION_SECONDS = 10;

const outDir = join(repoRoot, "bench", "out");

interface Example {
  name: string;
  title: string;
  /** Started directly rather than through npm, so that the measured processes are the server's. */
  start: string;
  body: string;
  /** Why it cannot run here, if it cannot. */
  unavailable?: () => string | undefined;
}


const examples: Example[] = [
  { name: "express-ts", title: "Express", start: START["express-ts"], body: chatBody("userId") },
  {
    name: "fastapi",
    title: "FastAPI",
    start: START.fastapi,
    body: chatBody("user_id"),
    unavailable: () =>
      spawnSync(PYTHON, ["-c", "import fastapi, uvicorn, httpx"]).status === 0 ? undefined : `${PYTHON} with fastapi, uvicorn and httpx is not installed`,
  },
];

interface Run {
  version: "legacy" | "migrated";
  figures?: LoadFigures;
  upstreamPeak?: number;
  skipped?: string;
}

interface ExampleResult {
  example: Example;
  runs: Run[];
}

async function stub(control: string, path: "stats" | "reset"): Promise<{ peakInFlight: number }> {
  const response = await fetch(`${control}/${path}`, { method: path === "reset" ? "POST" : "GET" });
  return (await response.json()) as { peakInFlight: number };
}

async function measure(example: Example, dir: string, version: Run["version"], stubUrl: string): Promise<Run> {
  const control = stubUrl.replace(/\/v1$/, "/_stub");
  const env: NodeJS.ProcessEnv = { ...process.env, OPENAI_BASE_URL: stubUrl, OPENAI_API_KEY: "sk-bench-not-a-secret" };
  for (const flag of ["LLM_POOL_SIZE", "LLM_CANARY_PERCENT", "FORCE_LEGACY_LLM", "DISABLE_POOL", "EMERGENCY_MODE"]) delete env[flag];
  let server: ServerProcess | undefined;
  try {
    server = await bootServer({ command: example.start, cwd: dir, env });
    // Warm up (module loading, first connections) before the clock starts.
    await Promise.all(
      Array.from({ length: version === "legacy" ? 1 : POOL_SIZE }, () =>
        fetch(`${server!.url}/chat`, { method: "POST", headers: { "content-type": "application/json" }, body: example.body }).then((r) => r.text()),
      ),
    );
    await stub(control, "reset");
    process.stderr.write(`bench: ${example.title} ${version}: ${USERS} users for ${DURATION_SECONDS} s …\n`);
    const figures = await runLoad({
      url: `${server.url}/chat`,
      body: example.body,
      connections: USERS,
      durationSeconds: DURATION_SECONDS,
      timeoutSeconds: TIMEOUT_SECONDS,
      serverGroup: server.pid,
    });
    return { version, figures, upstreamPeak: (await stub(control, "stats")).peakInFlight };
  } finally {
    await server?.stop();
  }
}

async function benchExample(example: Example, stubUrl: string): Promise<ExampleResult> {
  const unavailable = example.unavailable?.();
  if (unavailable) return { example, runs: (["legacy", "migrated"] as const).map((version) => ({ version, skipped: unavailable })) };
  const dir = copyExample(example.name);
  try {
    const legacy = await measure(example, dir, "legacy", stubUrl);
    const notMigrated = migrate(dir, POOL_SIZE);
    const migrated = notMigrated ? { version: "migrated" as const, skipped: notMigrated } : await measure(example, dir, "migrated", stubUrl);
    return { example, runs: [legacy, migrated] };
  } finally {
    rmSync(join(dir, ".."), { recursive: true, force: true });
  }
}

function table(results: ExampleResult[]): { text: string; markdown: string } {
  const header = ["example", "version", "mean ms", "p95 ms", "success", "req/s", "timeouts", "CPU %", "upstream peak"];
  const rows = results.flatMap(({ example, runs }) =>
    runs.map(({ version, figures: f, upstreamPeak, skipped }) =>
      f
        ? [example.title, version, f.meanMs.toFixed(0), f.p95Ms.toFixed(0), f.successRate.toFixed(3), f.rps.toFixed(1), String(f.timeouts), f.cpuPercent.toFixed(0), String(upstreamPeak)]
        : [example.title, version, `skipped: ${skipped}`],
    ),
  );
  const measured = rows.filter((row) => row.length === header.length);
  const widths = header.map((h, i) => Math.max(h.length, ...measured.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i < 2 || cells.length < header.length ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i]!))).join("  ").trimEnd();
  const markdownRow = (cells: string[]) => `| ${[...cells, ...Array<string>(header.length - cells.length).fill("")].join(" | ")} |`;
  return {
    text: [header, ...rows].map(line).join("\n"),
    markdown: [markdownRow(header), `|${header.map((_, i) => (i < 2 ? "---" : "---:")).join("|")}|`, ...rows.map(markdownRow)].join("\n"),
  };
}

function machine(): string {
  const python = spawnSync(PYTHON, ["--version"], { encoding: "utf8" });
  const pythonVersion = python.status === 0 ? `, ${python.stdout.trim() || python.stderr.trim()}` : "";
  return `${cpus()[0]?.model.trim() ?? "unknown CPU"}, ${cpus().length} cores, Node ${process.version}${pythonVersion}, ${process.platform}`;
}

function updateDocs(block: string): void {
  const path = join(repoRoot, "docs", "bench.md");
  const text = readFileSync(path, "utf8");
  const start = "<!-- bench:latest:start -->";
  const end = "<!-- bench:latest:end -->";
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) return;
  writeFileSync(path, `${text.slice(0, from + start.length)}\n${block}\n${text.slice(to)}`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const stubServer = await bootServer({
    command: `"${process.execPath}" ${JSON.stringify(join(repoRoot, "dist", "src", "stub", "cli.js"))} --port "$PORT" --latency ${LATENCY_MS}`,
    cwd: repoRoot,
    env: process.env,
  });
  const stubUrl = `${stubServer.url}/v1`;
  const results: ExampleResult[] = [];
  try {
    for (const example of examples) results.push(await benchExample(example, stubUrl));
  } finally {
    await stubServer.stop();
  }

  const limitRps = Math.min(USERS, POOL_SIZE) / (LATENCY_MS / 1000);
  const { text, markdown } = table(results);
  const settings =
    `${USERS} concurrent users, upstream stub latency ${LATENCY_MS} ms, client timeout ${TIMEOUT_SECONDS} s, ` +
    `${DURATION_SECONDS} s per run, migrated pool ${POOL_SIZE}`;
  const littlesLaw = results
    .map(({ example, runs }) => {
      const migrated = runs.find((r) => r.version === "migrated")?.figures;
      return migrated ? `${example.title} migrated ${migrated.rps.toFixed(1)} req/s = ${(migrated.rps / limitRps).toFixed(2)} of it` : `${example.title}: skipped`;
    })
    .join("; ");
  const limitLine = `Little's law limit: min(${USERS} users, pool ${POOL_SIZE}) / ${LATENCY_MS / 1000} s = ${limitRps.toFixed(1)} req/s; ${littlesLaw}`;
  const notes =
    "mean and p95 count a timed-out request at the timeout; success = 2xx / requests sent; CPU = the server's processes " +
    "(and the curl children they waited for), % of one core";

  mkdirSync(outDir, { recursive: true });
  const panels: Panel[] = results.map(({ example, runs }) => ({
    title: `${example.title}: ${USERS} users, upstream ${LATENCY_MS} ms`,
    skipped: runs.every((r) => r.skipped) ? `skipped: ${runs[0]!.skipped}` : undefined,
    series: runs.map((run) => ({
      name: run.version === "legacy" ? "before (legacy)" : `after (migrated, pool ${POOL_SIZE})`,
      colour: run.version === "legacy" ? "#c0392b" : "#1f6fb2",
      latenciesMs: run.figures?.latenciesMs ?? [],
      timeouts: run.figures?.timeouts ?? 0,
    })),
  }));
  const svg = latencyChartSvg(panels, { maxMs: TIMEOUT_SECONDS * 1000, caption: `llm-migrate bench: ${settings}` });
  writeFileSync(join(outDir, "latency.svg"), svg);
  copyFileSync(join(outDir, "latency.svg"), join(repoRoot, "docs", "bench-latency.svg"));

  const express = results.find((r) => r.example.name === "express-ts")!.runs;
  const legacyRps = express.find((r) => r.version === "legacy")?.figures?.rps ?? 0;
  const migratedFigures = express.find((r) => r.version === "migrated")?.figures;
  const migratedRps = migratedFigures?.rps ?? 0;
  const summary =
    `bench: legacy_rps=${legacyRps.toFixed(1)} migrated_rps=${migratedRps.toFixed(1)} limit_rps=${limitRps.toFixed(1)} ` +
    `ratio=${(migratedRps / limitRps).toFixed(2)} success=${(migratedFigures?.successRate ?? 0).toFixed(3)}`;
  const when = new Date().toISOString().slice(0, 10);
  const runsWithoutSamples = results.map(({ example, runs }) => ({
    example: example.name,
    runs: runs.map(({ figures, ...run }) => ({ ...run, figures: figures && { ...figures, latenciesMs: undefined } })),
  }));
  writeFileSync(join(outDir, "results.json"), JSON.stringify({ date: when, machine: machine(), settings, limitRps, results: runsWithoutSamples }, null, 2) + "\n");
  updateDocs(
    [`Run of ${when} on ${machine()}; ${settings}.`, "", markdown, "", limitLine + ".", "", "```", summary, "```", "", "![Latency before and after](bench-latency.svg)"].join("\n"),
  );

  console.log(`${settings}\n\n${text}\n\n${limitLine}\n(${notes})\nmachine: ${machine()}`);
  console.log(`chart: ${join("bench", "out", "latency.svg")} (copied to docs/bench-latency.svg); took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  console.log(summary);
}

await stoppingServersOnSignals(main, async () => undefined);
