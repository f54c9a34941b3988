// Bytes and files: what a run leaves in the tree besides the edits it means to make.
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { applyPatch } from "diff";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyPlan, planMigration, textOf } from "../../src/engine/index.js";
import { unifiedDiff } from "../../src/report/diff.js";
import { commitAll, copyServer, git, removeScratch, snapshotTree } from "../engine/helpers.js";
import { llmMigrate, llmMigrateWithFault } from "../safety/support.js";

const settings = { poolSize: 10, canaryPercent: 100 };

describe("bytes outside the edited ranges", () => {
  let dir: string;
  beforeEach(() => (dir = copyServer("express-ts")));
  afterEach(() => removeScratch(dir));

  // Seen: a server whose comments were written in Latin-1 came back with U+FFFD in lines the run
  // never touched, and the dry-run diff (decoded as UTF-8 on both sides) showed no change there.
  it("keeps Latin-1 bytes exactly, and the diff shows every byte that changes", async () => {
    const server = join(dir, "src", "server.ts");
    const latin1Line = Buffer.from("// Réponse du modèle : voir la fiche « chat » (© 2019)\n", "latin1");
    writeFileSync(server, Buffer.concat([latin1Line, readFileSync(server)]));
    const original = readFileSync(server);

    const plan = await planMigration(dir, settings);
    const change = plan.changes.find((c) => c.path === "src/server.ts")!;
    expect(change.after.subarray(0, latin1Line.length)).toEqual(latin1Line);
    expect(change.after.includes(Buffer.from([0xef, 0xbf, 0xbd]))).toBe(false);
    // The diff, applied to the file as read, gives exactly the bytes written.
    const diff = unifiedDiff([change]);
    expect(diff).not.toContain("\uFFFD");
    expect(diff).not.toContain("-// Réponse");
    expect(Buffer.from(applyPatch(textOf(original), diff) as string, "latin1")).toEqual(change.after);
  });
});

describe("a run killed between writing a temp file and renaming it", () => {
  let dir: string;
  let before: Map<string, string>;
  beforeEach(() => {
    dir = copyServer("express-ts");
    writeFileSync(join(dir, ".env.example"), "OPENAI_API_KEY=\n");
    commitAll(dir);
    before = snapshotTree(dir);
  });
  afterEach(() => removeScratch(dir));

  it("leaves a temp file that rollback recognises and removes; the next apply then runs on a clean tree", async () => {
    const marker = join(dir, "..", "fault-marker");
    const killed = await llmMigrateWithFault("SIGKILL", 1, marker, "--before-rename", "apply", dir).done;
    expect(killed.status).toBe(-1);
    const temps = [...snapshotTree(dir).keys()].filter((path) => /\.llm-migrate-\d+\.tmp$/.test(path));
    expect(temps).toHaveLength(1);

    const rollback = llmMigrate("rollback", dir);
    expect({ status: rollback.status, stderr: rollback.stderr }).toEqual({ status: 0, stderr: "" });
    expect(snapshotTree(dir)).toEqual(before);

    const apply = llmMigrate("apply", dir);
    expect({ status: apply.status, stderr: apply.stderr }).toEqual({ status: 0, stderr: "" });
  });

  it("the next apply does not count a left temp file as an uncommitted change, and deletes it", async () => {
    const stray = join(dir, ".env.example.llm-migrate-999999.tmp");
    writeFileSync(stray, "OPENAI_API_KEY=\nLLM_POOL_SIZE=10\n");
    const apply = llmMigrate("apply", dir);
    expect({ status: apply.status, stderr: apply.stderr }).toEqual({ status: 0, stderr: "" });
    expect(existsSync(stray)).toBe(false);
    expect(git(dir, "status", "--porcelain", "--", ".env.example.llm-migrate-999999.tmp")).toBe("");
  });
});

describe("a partly vendored runtime", () => {
  let dir: string;
  beforeEach(() => (dir = copyServer("express-ts")));
  afterEach(() => removeScratch(dir));

  // Seen: files deleted from llm-runtime/ after a migration, and the next run said "already migrated".
  it("is repaired: the missing files are put back and a finding says so; the others are left alone", async () => {
    await applyPlan(await planMigration(dir, settings));
    rmSync(join(dir, ".llm-migrate"), { recursive: true });
    const runtime = join(dir, "src", "llm-runtime");
    rmSync(join(runtime, "gate.ts"));
    rmSync(join(runtime, "metrics.ts"));
    writeFileSync(join(runtime, "flags.ts"), readFileSync(join(runtime, "flags.ts"), "utf8") + "// kept by the user\n");

    const plan = await planMigration(dir, settings);
    expect(plan.status).toBe("pending");
    expect(plan.changes.map((c) => [c.path, c.action])).toEqual([
      ["src/llm-runtime/gate.ts", "created"],
      ["src/llm-runtime/metrics.ts", "created"],
    ]);
    expect(plan.findings).toContainEqual(expect.objectContaining({ code: "runtime-repaired", file: "src/llm-runtime", message: expect.stringContaining("gate.ts, metrics.ts") }));
    await applyPlan(plan);
    expect(readdirSync(runtime)).toContain("gate.ts");
    expect((await planMigration(dir, settings)).status).toBe("already-migrated");
  });
});
