// The CLI as users run it: `node bin/llm-migrate.js` (built by `npm run build`, which `npm ci` runs as `prepare`).
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commitAll, copyServer, read, removeScratch, repoRoot, snapshotTree } from "../engine/helpers.js";

const bin = join(repoRoot, "bin", "llm-migrate.js");

function llmMigrate(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env.NO_COLOR;
  delete env.LLM_MIGRATE_DEBUG;
  const run = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"] });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("usage", () => {
  it("prints its version from package.json", () => {
    const { version } = JSON.parse(read(repoRoot, "package.json")) as { version: string };
    expect(llmMigrate("--version")).toEqual({ status: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("documents the commands and the exit codes in --help", () => {
    const { status, stdout } = llmMigrate("--help");
    expect(status).toBe(0);
    for (const word of ["scan", "apply", "rollback", "Exit codes:"]) expect(stdout).toContain(word);
    const apply = llmMigrate("apply", "--help").stdout;
    for (const option of ["--dry-run", "--check", "--json", "--pool-size", "--canary", "--entry", "--client", "--method", "--allow-dirty", "--no-format"]) {
      expect(apply).toContain(option);
    }
  });

  it.each([
    [["frob"], "llm-migrate: unknown command 'frob' (see llm-migrate --help)\n"],
    [["apply", ".", "--frob"], "llm-migrate: unknown option '--frob' (see llm-migrate --help)\n"],
    [["apply"], "llm-migrate: missing required argument 'dir' (see llm-migrate --help)\n"],
    [["apply", ".", "--pool-size", "0"], "llm-migrate: option '--pool-size <n>' argument '0' is invalid. must be a whole number, 1 or more (see llm-migrate --help)\n"],
    [["apply", ".", "--pool-size", "2.5"], "llm-migrate: option '--pool-size <n>' argument '2.5' is invalid. must be a whole number, 1 or more (see llm-migrate --help)\n"],
    [["apply", ".", "--canary", "101"], "llm-migrate: option '--canary <percent>' argument '101' is invalid. must be a percentage from 0 to 100 (see llm-migrate --help)\n"],
    [["apply", ".", "--canary", "ten"], "llm-migrate: option '--canary <percent>' argument 'ten' is invalid. must be a percentage from 0 to 100 (see llm-migrate --help)\n"],
    [["scan", ".", "--client", "llm client"], "llm-migrate: option '--client <name>' argument 'llm client' is invalid. must be a name such as llmClient or generateResponse (see llm-migrate --help)\n"],
    [["scan", ""], "llm-migrate: command-argument value '' is invalid for argument 'dir'. must name a folder (see llm-migrate --help)\n"],
    [["rollback", " "], "llm-migrate: command-argument value ' ' is invalid for argument 'dir'. must name a folder (see llm-migrate --help)\n"],
    [["verify", ""], "llm-migrate: command-argument value '' is invalid for argument 'dir'. must name a folder (see llm-migrate --help)\n"],
    [["scan", ".", "--pool-size", "0"], "llm-migrate: option '--pool-size <n>' argument '0' is invalid. must be a whole number, 1 or more (see llm-migrate --help)\n"],
  ])("answers a usage error %j with exit 2 and one line", (args, stderr) => {
    expect(llmMigrate(...args)).toEqual({ status: 2, stdout: "", stderr });
  });
});

describe("options", () => {
  it("scan takes --pool-size and --canary, as apply does, so that one command line serves both", () => {
    const dir = copyServer("express-ts");
    try {
      const { status, stdout, stderr } = llmMigrate("scan", dir, "--pool-size", "4", "--canary", "20");
      expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
      expect(stdout).toBe(llmMigrate("scan", dir).stdout);
    } finally {
      removeScratch(dir);
    }
  });

  it("--entry takes a Python module", () => {
    const dir = copyServer("fastapi");
    try {
      const { status, stderr } = llmMigrate("scan", dir, "--entry", "app/main.py");
      expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
    } finally {
      removeScratch(dir);
    }
  });
});

describe("bad input", () => {
  it("names a missing path, exit 3", () => {
    expect(llmMigrate("apply", "/no/such/server")).toEqual({ status: 3, stdout: "", stderr: "llm-migrate: /no/such/server: no such file or directory\n" });
  });

  it("names a file given instead of a folder, exit 3", () => {
    const file = join(repoRoot, "package.json");
    expect(llmMigrate("scan", file)).toEqual({ status: 3, stdout: "", stderr: `llm-migrate: ${file}: not a directory\n` });
  });

  it("refuses to roll back when no run is recorded, exit 4", () => {
    const dir = copyServer("express-ts");
    try {
      expect(llmMigrate("rollback", dir)).toEqual({ status: 4, stdout: "", stderr: `llm-migrate: ${dir}: nothing to roll back: no .llm-migrate/manifest.json\n` });
      expect(existsSync(join(dir, ".llm-migrate"))).toBe(false);
    } finally {
      removeScratch(dir);
    }
  });
});

describe("the user's flow on the example Express server", () => {
  let dir: string;
  beforeEach(() => {
    dir = copyServer("express-ts");
    symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
    writeFileSync(join(dir, ".env"), "OPENAI_API_KEY=not-a-real-key\n");
    commitAll(dir);
  });
  afterEach(() => removeScratch(dir));

  it("scan reports the client and every call site with file:line, and writes nothing", () => {
    const before = snapshotTree(dir);
    const { status, stdout, stderr } = llmMigrate("scan", dir);
    expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
    expect(stdout).toMatch(/will rewrite\s+src\/server\.ts:\d+\s+llmClient\.generateResponse/);
    expect(stdout).not.toContain("\x1b[");
    expect(snapshotTree(dir)).toEqual(before);
  });

  it("--dry-run prints the unified diff and writes nothing at all", () => {
    const before = snapshotTree(dir);
    const { status, stdout } = llmMigrate("apply", dir, "--dry-run");
    expect(status).toBe(0);
    expect(stdout).toContain("--- a/src/server.ts\n+++ b/src/server.ts\n");
    expect(stdout).toMatch(/--- \/dev\/null\n\+\+\+ b\/src\/llm-runtime\/index\.ts\n/);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it("--check exits 1 while changes are pending and writes nothing", () => {
    const before = snapshotTree(dir);
    expect(llmMigrate("apply", dir, "--check").status).toBe(1);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it("apply migrates; a second apply says already migrated; rollback restores every byte", () => {
    const before = snapshotTree(dir);
    const first = llmMigrate("apply", dir, "--pool-size", "4", "--canary", "20");
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(first.stdout).toContain(`llm-migrate ${dir}: migrated`);
    expect(first.stdout).toContain(`llm-migrate rollback ${dir}`);
    expect(read(dir, ".env.example")).toContain("LLM_POOL_SIZE=4\nLLM_CANARY_PERCENT=20\n");
    expect(read(dir, ".env")).toBe("OPENAI_API_KEY=not-a-real-key\n");
    expect(JSON.parse(read(dir, "package.json")).dependencies).toHaveProperty("openai");

    const second = llmMigrate("apply", dir, "--allow-dirty");
    expect(second.status).toBe(0);
    expect(second.stdout).toContain("already migrated");
    expect(llmMigrate("apply", dir, "--check").status).toBe(0);

    const rollback = llmMigrate("rollback", dir);
    expect(rollback.status).toBe(0);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it("keeps a CRLF file with a BOM and its mode, and rollback restores every byte of it", () => {
    const server = join(dir, "src", "server.ts");
    writeFileSync(server, "\uFEFF" + read(dir, "src/server.ts").replace(/\n/g, "\r\n"));
    chmodSync(server, 0o640);
    commitAll(dir);
    const before = snapshotTree(dir);
    expect(llmMigrate("apply", dir).status).toBe(0);
    const migrated = readFileSync(server);
    expect(migrated.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(migrated.toString("utf8")).toContain("useNewLlmPath(");
    expect(migrated.toString("utf8").replace(/\r\n/g, "")).not.toContain("\n");
    expect(statSync(server).mode & 0o777).toBe(0o640);
    expect(llmMigrate("rollback", dir).status).toBe(0);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it("refuses to write on a dirty git tree unless --allow-dirty, exit 4", () => {
    writeFileSync(join(dir, "README.md"), "work in progress\n");
    const before = snapshotTree(dir);
    const refused = llmMigrate("apply", dir);
    expect(refused.status).toBe(4);
    expect(refused.stderr).toMatch(new RegExp(`^llm-migrate: ${dir}: the git tree has uncommitted changes \\(.*README\\.md\\); commit or stash them, or pass --allow-dirty\\n$`));
    expect(snapshotTree(dir)).toEqual(before);
    expect(llmMigrate("apply", dir, "--allow-dirty").status).toBe(0);
  });

  it("rollback refuses after a manual edit and keeps it, exit 4", () => {
    expect(llmMigrate("apply", dir).status).toBe(0);
    writeFileSync(join(dir, "src", "server.ts"), read(dir, "src/server.ts") + "// reviewed\n");
    const after = snapshotTree(dir);
    const refused = llmMigrate("rollback", dir);
    expect(refused.status).toBe(4);
    expect(refused.stderr).toMatch(new RegExp(`^llm-migrate: ${join(dir, "src/server.ts")}: changed since the run; .*\\n$`));
    expect(snapshotTree(dir)).toEqual(after);
  });

  it("names a file that does not parse, exit 3, writing nothing", () => {
    writeFileSync(join(dir, "src", "server.ts"), read(dir, "src/server.ts").replace("app.use(express.json());", "app.use(express.json();"));
    commitAll(dir);
    const before = snapshotTree(dir);
    const { status, stdout, stderr } = llmMigrate("apply", dir);
    expect({ status, stdout }).toEqual({ status: 3, stdout: "" });
    expect(stderr).toMatch(new RegExp(`^llm-migrate: ${join(dir, "src/server.ts")}: syntax error at \\d+:\\d+: .*\\n$`));
    expect(snapshotTree(dir)).toEqual(before);
  });

  it("--json prints the stable report shape", () => {
    const { status, stdout } = llmMigrate("apply", dir, "--dry-run", "--json");
    expect(status).toBe(0);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(report)).toEqual(["version", "dir", "status", "entryFile", "client", "framework", "callSites", "findings", "files"]);
    expect(report).toMatchObject({ dir, status: "dry-run", entryFile: "src/server.ts", client: { name: "llmClient" } });
    expect(report.files).toContainEqual({ path: "src/server.ts", action: "modified" });
    expect(report.callSites).toContainEqual(expect.objectContaining({ file: "src/server.ts", callee: "llmClient.generateResponse", state: "rewritten" }));
  });
});

describe("a tree whose only LLM call is left for a human", () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), "llm-migrate-cli-")), "server");
    cpSync(join(repoRoot, "fixtures", "gate-call-sites", "shell-string-in-handler-unchanged", "input"), dir, { recursive: true });
  });
  afterEach(() => removeScratch(dir));

  it("exits 7, writes nothing, and its report claims no route it did not write", () => {
    const before = snapshotTree(dir);
    const { status, stdout } = llmMigrate("apply", dir, "--json");
    expect(status).toBe(7);
    const report = JSON.parse(stdout) as { callSites: unknown[]; findings: { code: string }[]; files: unknown[] };
    expect(report.callSites).toEqual([expect.objectContaining({ file: "server.js", line: 8, state: "left", reason: "BLOCKING_CHILD_PROCESS_CALL" })]);
    expect(report.findings.map((finding) => finding.code)).toEqual(["COMMAND_INJECTION"]);
    expect(report.files).toEqual([]);
    expect(snapshotTree(dir)).toEqual(before);
  });
});
