// `llm-migrate verify` on the bundled Express example: it passes once migrated, fails with the
// right message when the migrated handler is edited back to the blocking call, and leaves no
// server behind on Ctrl-C. Real servers, the real stub, the real CLI (needs `npm run build`).
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { groupMembers } from "../../src/verify/processes.js";
import { copyServer, llmMigrate, removeScratch, repoRoot } from "../e2e/support.js";
import { describeWithAiohttp, describeWithFastapi } from "../debian-python.js";

const GATED_CALL = `const reply = useNewLlmPath({ key: userId })
    ? extractOutputText(await getAsyncLlmClient().generateResponseAsync(messages, { model: process.env.LLM_MODEL ?? "gpt-4o-mini", api: "chat", baseURL: process.env.OPENAI_BASE_URL ?? "https://api.openai.com/v1", apiKey: process.env.OPENAI_API_KEY ?? "" }))
    : llmClient.generateResponse(messages);`;

/** The checks that did not pass, with their messages, so a failure says what verify saw. */
function failedChecks(report: { checks: { name: string; status: string; message: string }[] }): string[] {
  return report.checks.filter((c) => c.status !== "pass").map((c) => `${c.name}: ${c.status}: ${c.message}`);
}

/** Zombies waiting for init to reap them do not count. */
function groupAlive(pgid: number): boolean {
  return groupMembers(pgid)!.some((member) => member.state !== "Z");
}

/** Live processes working in `dir`: whatever verify started there, in any process group. */
function processesIn(dir: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z" && realpathSync(`/proc/${pid}/cwd`) === realpathSync(dir);
      } catch {
        return false; // gone, or not ours to look at
      }
    })
    .map(Number);
}

describe("llm-migrate verify on the bundled Express example", () => {
  let dir: string;

  beforeAll(async () => {
    dir = copyServer("express-ts");
    const applied = await llmMigrate("apply", dir);
    expect(applied.status).toBe(0);
  });

  afterAll(() => {
    if (dir) removeScratch(dir);
  });

  it("passes on the migrated server: pooled on the new path, original path under FORCE_LEGACY_LLM", async () => {
    // 400 ms upstream latency, not the default 200: the wall-time check then allows 1.2 s of the
    // server's own overhead, which a tsx server on a CI machine busy with other test files can use.
    const run = await llmMigrate("verify", dir, "--json", "--latency", "400");
    expect(processesIn(dir)).toEqual([]);
    expect(run.stderr).toMatch(/booted `npm run --silent start` on port \d+/);
    const report = JSON.parse(run.stdout);
    expect(failedChecks(report)).toEqual([]);
    expect(run.status).toBe(0);
    expect(report).toMatchObject({ route: "POST /chat", requests: 9, poolSize: 3, latencyMs: 400, expectedWallMs: 1200, ok: true });
    expect(report.checks.map((c: { name: string }) => c.name)).toEqual(["gated", "boots", "answered", "concurrency", "wall time", "metrics", "legacy flag"]);
    expect(report.migrated.statuses).toEqual(Array(9).fill(200));
    expect(report.migrated.upstreamPeakInFlight).toBeGreaterThan(1);
    expect(report.migrated.upstreamPeakInFlight).toBeLessThanOrEqual(3);
    expect(report.migrated.env).toMatchObject({ LLM_POOL_SIZE: "3" });
    expect(report.legacy.env).toMatchObject({ FORCE_LEGACY_LLM: "true" });
    expect(report.legacy.upstreamPeakInFlight).toBe(1);
  });

  it("fails when the migrated handler calls the legacy client directly, saying the calls were serialised", async () => {
    const server = join(dir, "src", "server.ts");
    const source = readFileSync(server, "utf8");
    expect(source).toContain(GATED_CALL);
    writeFileSync(server, source.replace(GATED_CALL, "const reply = llmClient.generateResponse(messages);"));

    const run = await llmMigrate("verify", dir);
    expect(run.status).toBe(6);
    const lines = run.stdout.split("\n");
    expect(lines).toContain("FAIL  gated        not gated: src/server.ts:30 llmClient.generateResponse (llm-migrate apply would rewrite it)");
    expect(lines).toContain(
      "FAIL  concurrency  peak 1 in flight at the upstream (pool 3): the 9 requests reached the upstream one at a time, " +
        "so POST /chat still calls the model in a blocking or serialised way (does the handler call the legacy client directly?)",
    );
    expect(lines).toContain("pass  answered     9/9 answered 2xx");
    expect(run.stdout).toMatch(/^FAIL {2}metrics {6}\/metrics\/llm counted 0 requests, 0 on the new path.*paths\.new should grow by 9/m);
    expect(run.stdout).toMatch(/^verify: FAILED \(5 of 7 checks failed\)$/m);
  });

  it("stops the server it started when interrupted with Ctrl-C", async () => {
    const child = spawn(process.execPath, [join(repoRoot, "bin", "llm-migrate.js"), "verify", dir, "--latency", "2000"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.once("exit", (code, signal) => done({ code, signal })),
    );
    const group = await new Promise<number>((done, fail) => {
      let stderr = "";
      child.stderr!.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        const booted = /process group (\d+)\)/.exec(stderr);
        if (booted) done(Number(booted[1]));
      });
      void exited.then(() => fail(new Error(`verify ended before booting the server:\n${stderr}`)));
    });
    expect(groupAlive(group)).toBe(true);
    child.kill("SIGINT");
    expect(await exited).toEqual({ code: null, signal: "SIGINT" });
    expect(groupAlive(group)).toBe(false);
    expect(processesIn(dir)).toEqual([]);
  });

  it.each([
    [["--route", "chat"], "llm-migrate: option '--route <route>' argument 'chat' is invalid. must be a method and a path, e.g. \"POST /chat\" (see llm-migrate --help)\n"],
    [["--body", "{<i>}"], "llm-migrate: --body is not JSON once <i> is replaced: {0} (see llm-migrate verify --help)\n"],
  ])("refuses %j as a usage error", async (args, message) => {
    const run = await llmMigrate("verify", dir, ...args);
    expect(run).toMatchObject({ status: 2, stdout: "", stderr: message });
  });
});

// The Python servers are started as their framework is: FastAPI with uvicorn, aiohttp with its own runner on the app object.
const PYTHON_SERVERS = [
  { describeWith: describeWithFastapi, server: "fastapi", start: '/usr/bin/python3 -m uvicorn app.main:app --host 127.0.0.1 --port "$PORT"' },
  {
    describeWith: describeWithAiohttp,
    server: "aiohttp",
    start: `/usr/bin/python3 -c 'import os; from aiohttp import web; from server import app as app; web.run_app(app, host="127.0.0.1", port=int(os.environ["PORT"]))'`,
  },
];

for (const { describeWith, server, start } of PYTHON_SERVERS) {
  describeWith(`llm-migrate verify on the bundled ${server} example`, () => {
    let dir: string;

    beforeAll(async () => {
      dir = copyServer(server);
      const applied = await llmMigrate("apply", dir);
      expect(applied.status).toBe(0);
    });

    afterAll(() => {
      if (dir) removeScratch(dir);
    });

    it("boots it as its framework runs and passes", async () => {
      // 400 ms upstream latency, as for Express: room for a server's own overhead on a busy machine.
      const run = await llmMigrate("verify", dir, "--json", "--latency", "400");
      const report = JSON.parse(run.stdout);
      expect(failedChecks(report)).toEqual([]);
      expect(run.status).toBe(0);
      expect(report).toMatchObject({ route: "POST /chat", start });
      expect(report.migrated.upstreamPeakInFlight).toBeGreaterThan(1);
      expect(report.migrated.upstreamPeakInFlight).toBeLessThanOrEqual(3);
    });
  });
}
