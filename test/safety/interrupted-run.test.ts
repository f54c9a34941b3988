// Runs that do not end normally: a second apply while the first holds the tree, and a run killed
// half-way. The first run is held or killed right after its Nth file write by a preload
// (fault-after-writes.cjs), so the engine carries no test hook. Through the built CLI.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Manifest } from "../../src/engine/index.js";
import { copyServer, read, removeScratch, snapshotTree } from "../engine/helpers.js";
import { expectOneLineError, fileHash, llmMigrate, llmMigrateWithFault, until } from "./support.js";

describe("a run that does not end normally", () => {
  let dir: string;
  let marker: string;
  let before: Map<string, string>;
  beforeEach(() => {
    dir = copyServer("express-ts");
    marker = join(dir, "..", "fault-marker");
    before = snapshotTree(dir);
  });
  afterEach(() => removeScratch(dir));

  it("a second apply while the first holds the tree is refused; the first then finishes alone", async () => {
    const first = llmMigrateWithFault("SIGSTOP", 1, marker, "apply", dir);
    try {
      await until(() => existsSync(marker), "the first run to stop after its first write");
      const pid = Number.parseInt(readFileSync(marker, "utf8"), 10);
      expect(pid).toBe(first.child.pid);

      const midway = snapshotTree(dir);
      const second = llmMigrate("apply", dir, "--allow-dirty");
      expect(second.status).toBe(4);
      expect(expectOneLineError(second)).toBe(`llm-migrate: ${join(dir, ".llm-migrate/lock")}: another llm-migrate run (pid ${pid}) is working on this folder`);
      const rollback = llmMigrate("rollback", dir);
      expect(rollback.status).toBe(4);
      expect(expectOneLineError(rollback)).toContain(".llm-migrate/lock: another llm-migrate run");
      expect(snapshotTree(dir)).toEqual(midway);
    } finally {
      first.child.kill("SIGCONT");
    }
    const finished = await first.done;
    expect({ status: finished.status, stderr: finished.stderr }).toEqual({ status: 0, stderr: "" });
    expect(llmMigrate("apply", dir, "--check").status).toBe(0);
    expect(llmMigrate("rollback", dir).status).toBe(0);
    expect(snapshotTree(dir)).toEqual(before);
  });

  // After 1 write (the first of many) and after 13 (all but the last few): each file is wholly old
  // or wholly new, and rollback — reading the manifest written before the first write — restores all.
  it.each([1, 13])("a run killed after %i file writes leaves every file whole, and rollback restores the tree", async (writes) => {
    const killed = llmMigrateWithFault("SIGKILL", writes, marker, "apply", dir);
    const outcome = await killed.done;
    expect(existsSync(marker)).toBe(true);
    expect(outcome.status).toBe(-1);

    const manifest = JSON.parse(read(dir, ".llm-migrate/manifest.json")) as Manifest;
    expect(manifest.files.length).toBeGreaterThan(writes);
    const states = manifest.files.map((file) => {
      const now = fileHash(dir, file.path);
      if (now === file.sha256After) return "new";
      if (now === file.sha256Before) return "old";
      throw new Error(`${file.path} is neither the old nor the new file`);
    });
    expect(states.filter((state) => state === "new")).toHaveLength(writes);
    // Nothing else in the tree was touched: no temp files, no partial writes beside the planned ones.
    const planned = new Set(manifest.files.map((file) => file.path));
    const stray = [...snapshotTree(dir).keys()].filter(
      (path) => !before.has(path) && !planned.has(path) && !path.startsWith(".llm-migrate/") && !path.endsWith("/"),
    );
    expect(stray).toEqual([]);

    const refused = llmMigrate("apply", dir, "--allow-dirty");
    expect(refused.status).toBe(4);
    expect(expectOneLineError(refused)).toContain("a previous run can still be rolled back");

    const rollback = llmMigrate("rollback", dir);
    expect({ status: rollback.status, stderr: rollback.stderr }).toEqual({ status: 0, stderr: "" });
    expect(snapshotTree(dir)).toEqual(before);
  });
});
