import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyPlan, planMigration, rollbackMigration, type Manifest } from "../../src/engine/index.js";
import { processStartTime } from "../../src/engine/state.js";
import { gateCalls } from "./fixtures/gate-calls.js";
import { commitAll, copyFixture, git, read, removeScratch, snapshotTree } from "./helpers.js";

const settings = { poolSize: 10, canaryPercent: 100 };
const plan = (dir: string) => planMigration(dir, settings, { migrate: gateCalls });
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("applying a migration", () => {
  let dir: string;
  beforeEach(() => {
    dir = copyFixture("legacy-server");
    writeFileSync(join(dir, ".env"), "OPENAI_API_KEY=not-a-real-key\n");
    chmodSync(join(dir, "src", "server.ts"), 0o750);
  });
  afterEach(() => removeScratch(dir));

  it("backs up every changed file and records it in the manifest", async () => {
    const before = snapshotTree(dir);
    const migration = await plan(dir);
    const manifest = await applyPlan(migration);
    const written = JSON.parse(read(dir, ".llm-migrate/manifest.json")) as Manifest;
    expect(written).toEqual(manifest);
    expect(written).toMatchObject({ tool: "llm-migrate", settings, createdDirs: ["src/llm-runtime"] });
    for (const file of written.files) {
      const now = readFileSync(join(dir, file.path));
      expect(sha256(now)).toBe(file.sha256After);
      if (file.action === "modified") {
        const backup = readFileSync(join(dir, ".llm-migrate/backup", file.path));
        expect(sha256(backup)).toBe(file.sha256Before);
        expect(`file ${file.mode.toString(8)} ${backup.toString("base64")}`).toBe(before.get(file.path));
      } else {
        expect(file.sha256Before).toBeNull();
      }
    }
    expect(written.files.find((f) => f.path === "src/server.ts")?.mode).toBe(0o750);
    expect(snapshotTree(dir).get("src/server.ts")).toMatch(/^file 750 /);
    expect(existsSync(join(dir, ".llm-migrate/lock"))).toBe(false);
  });

  it("writes exactly the planned bytes, and a second run changes nothing", async () => {
    const migration = await plan(dir);
    await applyPlan(migration);
    for (const change of migration.changes) expect(readFileSync(change.absPath)).toEqual(change.after);
    expect(read(dir, ".env")).toBe("OPENAI_API_KEY=not-a-real-key\n");
    const again = await plan(dir);
    expect(again.status).toBe("already-migrated");
    expect(again.changes).toEqual([]);
    expect(await applyPlan(again)).toBeUndefined();
  });

  it("rolls back byte for byte: CRLF and BOM files, modes, package.json; created files and folders go", async () => {
    const before = snapshotTree(dir);
    await applyPlan(await plan(dir));
    await rollbackMigration(dir);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it("refuses to roll back a file edited since the run, and keeps the edit", async () => {
    await applyPlan(await plan(dir));
    const edited = read(dir, "src/server.ts") + "// my fix\n";
    writeFileSync(join(dir, "src", "server.ts"), edited);
    const after = snapshotTree(dir);
    await expect(rollbackMigration(dir)).rejects.toMatchObject({ path: "src/server.ts", exitCode: 4 });
    expect(snapshotTree(dir)).toEqual(after);
    expect(read(dir, "src/server.ts")).toBe(edited);
  });

  it("refuses to roll back when there is nothing to roll back", async () => {
    await expect(rollbackMigration(dir)).rejects.toMatchObject({ path: ".", exitCode: 4, message: "nothing to roll back: no .llm-migrate/manifest.json" });
  });

  it("writes nothing when a file to change is read-only", async () => {
    chmodSync(join(dir, "src", "summarise.ts"), 0o444);
    const before = snapshotTree(dir);
    await expect(applyPlan(await plan(dir))).rejects.toMatchObject({ path: "src/summarise.ts", exitCode: 3 });
    expect(snapshotTree(dir)).toEqual(before);
  });

  it("writes all or nothing: when one write fails, the files written before it are restored", async () => {
    const migration = await plan(dir);
    const before = snapshotTree(dir);
    // Something in the way of the last planned file: renaming the new file over a folder fails.
    const last = migration.changes.filter((c) => c.action === "created").at(-1)!;
    mkdirSync(join(last.absPath, "in-the-way"), { recursive: true });
    const inTheWay = snapshotTree(dir);
    await expect(applyPlan(migration)).rejects.toMatchObject({ path: last.path, exitCode: 5 });
    expect(snapshotTree(dir)).toEqual(inTheWay);
    expect([...inTheWay.keys()].filter((k) => !before.has(k))).toEqual(["src/llm-runtime/", `${last.path}/`, `${last.path}/in-the-way/`]);
  });

  it("refuses a second apply while the last run can still be rolled back", async () => {
    await applyPlan(await plan(dir));
    writeFileSync(join(dir, "src", "more.ts"), 'import { llmClient } from "./llm.js";\nexport const more = (userId: string) => llmClient.generateResponse([userId]);\n');
    await expect(applyPlan(await plan(dir))).rejects.toMatchObject({ path: ".llm-migrate/manifest.json", exitCode: 4 });
  });

  describe("the lock", () => {
    it("refuses while another live run holds it", async () => {
      mkdirSync(join(dir, ".llm-migrate"));
      writeFileSync(join(dir, ".llm-migrate", "lock"), `${process.pid}\n`);
      const before = snapshotTree(dir);
      await expect(applyPlan(await plan(dir))).rejects.toMatchObject({ path: ".llm-migrate/lock", exitCode: 4 });
      expect(snapshotTree(dir)).toEqual(before);
    });

    it("takes over a lock left by a run that is gone", async () => {
      const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
      mkdirSync(join(dir, ".llm-migrate"));
      writeFileSync(join(dir, ".llm-migrate", "lock"), `${gone.stdout}\n`);
      await applyPlan(await plan(dir));
      expect(existsSync(join(dir, ".llm-migrate", "lock"))).toBe(false);
      expect(existsSync(join(dir, ".llm-migrate", "manifest.json"))).toBe(true);
    });

    // After a reboot or in a fresh container the pid in an old lock soon names another process.
    it("takes over a lock whose pid now belongs to a process started at another time", async () => {
      const started = processStartTime(process.pid)!;
      expect(started).toMatch(/^\d+$/);
      mkdirSync(join(dir, ".llm-migrate"));
      writeFileSync(join(dir, ".llm-migrate", "lock"), `${process.pid} ${Number(started) + 1}\n`);
      await applyPlan(await plan(dir));
      expect(existsSync(join(dir, ".llm-migrate", "manifest.json"))).toBe(true);
    });

    it("refuses a lock whose pid and start time are a live process", async () => {
      mkdirSync(join(dir, ".llm-migrate"));
      writeFileSync(join(dir, ".llm-migrate", "lock"), `${process.pid} ${processStartTime(process.pid)}\n`);
      await expect(applyPlan(await plan(dir))).rejects.toMatchObject({ path: ".llm-migrate/lock", exitCode: 4 });
    });
  });

  describe("in a git work tree", () => {
    beforeEach(() => commitAll(dir));

    it("refuses to write on a dirty tree", async () => {
      writeFileSync(join(dir, "README.md"), "# legacy-chat, edited\n");
      const before = snapshotTree(dir);
      await expect(applyPlan(await plan(dir))).rejects.toMatchObject({ path: ".", exitCode: 4 });
      expect(snapshotTree(dir)).toEqual(before);
    });

    it("writes on a dirty tree with --allow-dirty", async () => {
      writeFileSync(join(dir, "README.md"), "# legacy-chat, edited\n");
      expect(await applyPlan(await plan(dir), { allowDirty: true })).toBeDefined();
    });

    it("answers an already migrated tree even when it is dirty, and ignores its own .llm-migrate folder", async () => {
      await applyPlan(await plan(dir));
      expect(git(dir, "status", "--porcelain")).not.toBe("");
      const again = await plan(dir);
      expect(again.status).toBe("already-migrated");
      expect(await applyPlan(again)).toBeUndefined();
    });

    it("finds files the way git does, ignored ones excluded", async () => {
      mkdirSync(join(dir, "scratch"));
      writeFileSync(join(dir, "scratch", "try.ts"), 'import { llmClient } from "../src/llm.js";\nllmClient.generateResponse([]);\n');
      writeFileSync(join(dir, ".gitignore"), "scratch/\n");
      const migration = await plan(dir);
      expect(migration.outcome.callSites.some((s) => s.file.startsWith("scratch/"))).toBe(false);
    });
  });
});
