// The codemod under bad input, through the built CLI's main() (`npm run build` first; test/e2e/support.ts): every case
// gets its exit code and a one-line error naming the file (no stack trace), or a finding naming the
// file it skipped; and nothing is lost — a file the run does not migrate keeps every byte and its mode.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { copyServer, read, removeScratch, snapshotTree } from "../engine/helpers.js";
import { llmMigrate } from "../e2e/support.js";
import { expectOneLineError } from "./support.js";

/** The snapshot with the entries the run was expected to change left out. */
function without(snapshot: Map<string, string>, changed: (path: string) => boolean): Map<string, string> {
  return new Map([...snapshot].filter(([path]) => !changed(path)));
}

describe("bad input to the CLI", () => {
  it("an empty folder: nothing to do, exit 0, nothing written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llm-migrate-safety-empty-"));
    try {
      const run = await llmMigrate("apply", dir);
      expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
      expect(run.stdout).toContain(`llm-migrate ${dir}: nothing to do`);
      expect(snapshotTree(dir)).toEqual(new Map());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a missing folder inside an existing one: exit 3, the path named", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llm-migrate-safety-"));
    try {
      const run = await llmMigrate("apply", join(dir, "server"));
      expect(run.status).toBe(3);
      expect(expectOneLineError(run)).toBe(`llm-migrate: ${join(dir, "server")}: no such file or directory`);
      expect(snapshotTree(dir)).toEqual(new Map());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("bad files next to good ones (the example Express servers)", () => {
  let dir: string;
  afterEach(() => removeScratch(dir));

  describe("express-ts", () => {
    beforeEach(() => {
      dir = copyServer("express-ts");
    });

    it("a binary .js file, a 5 MB generated file and a symlink out of the tree: each skipped unread and named, each kept", async () => {
      const blob = Buffer.from([0x6c, 0x6c, 0x6d, 0x43, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0xff, 0xfe, 0x01]);
      writeFileSync(join(dir, "src", "blob.js"), blob);
      // Generated code holding calls of the shared client: too large to be the server's own code.
      const bundle = "// generated\n" + "llmClient.generateResponse([]);\n".repeat(170_000);
      expect(Buffer.byteLength(bundle)).toBeGreaterThan(5_000_000);
      writeFileSync(join(dir, "src", "bundle.js"), bundle);
      const outside = join(dir, "..", "outside.ts");
      const text = 'import { LlmClient } from "./somewhere.js";\nexport const reply = (c: LlmClient) => c.generateResponse([]);\n';
      writeFileSync(outside, text);
      symlinkSync(outside, join(dir, "src", "linked.ts"));

      const run = await llmMigrate("apply", dir);
      expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
      expect(run.stdout).toMatch(/warning\s+src\/blob\.js\s+skipped-binary-file: contains a NUL byte, not read/);
      expect(run.stdout).toMatch(/info\s+src\/bundle\.js\s+skipped-large-file: larger than 1 MiB, not read/);
      expect(run.stdout).toMatch(/src\/linked\.ts\s+skipped-symlink-out-of-tree/);
      expect(readFileSync(join(dir, "src", "blob.js"))).toEqual(blob);
      expect(read(dir, "src/bundle.js")).toBe(bundle);
      expect(readFileSync(outside, "utf8")).toBe(text);
      expect(snapshotTree(dir).get("src/linked.ts")).toBe(`link ${outside}`);
      expect(read(dir, "src/server.ts")).toContain("llm-runtime/index.js");
    });

    it("a package.json symlinked out of the tree: exit 3 naming it, nothing written anywhere", async () => {
      const outside = join(dir, "..", "shared-package.json");
      const text = read(dir, "package.json");
      writeFileSync(outside, text);
      rmSync(join(dir, "package.json"));
      symlinkSync(outside, join(dir, "package.json"));
      const before = snapshotTree(dir);
      const run = await llmMigrate("apply", dir);
      expect(run.status).toBe(3);
      expect(expectOneLineError(run)).toBe(`llm-migrate: ${join(dir, "package.json")}: is a symlink; llm-migrate does not write through symlinks`);
      expect(snapshotTree(dir)).toEqual(before);
      expect(readFileSync(outside, "utf8")).toBe(text);
    });

    it("a read-only file the run must change: exit 3 naming it, nothing written, its mode kept", async () => {
      chmodSync(join(dir, "src", "server.ts"), 0o444);
      const before = snapshotTree(dir);
      const run = await llmMigrate("apply", dir);
      expect(run.status).toBe(3);
      expect(expectOneLineError(run)).toBe(`llm-migrate: ${join(dir, "src/server.ts")}: is read-only; nothing was written`);
      expect(snapshotTree(dir)).toEqual(before);
      expect(before.get("src/server.ts")).toMatch(/^file 444 /);
    });

    it("a read-only folder the runtime must be vendored into: exit 3 naming it, nothing written", async () => {
      chmodSync(join(dir, "src"), 0o555);
      try {
        const before = snapshotTree(dir);
        const run = await llmMigrate("apply", dir);
        expect(run.status).toBe(3);
        expect(expectOneLineError(run)).toMatch(new RegExp(`^llm-migrate: ${join(dir, "src")}: (folder )?is read-only; nothing was written$`));
        expect(snapshotTree(dir)).toEqual(before);
      } finally {
        chmodSync(join(dir, "src"), 0o755);
      }
    });

    it("a damaged backup: rollback exit 3 naming it, and nothing is rolled back", async () => {
      expect((await llmMigrate("apply", dir)).status).toBe(0);
      writeFileSync(join(dir, ".llm-migrate", "backup", "src", "server.ts"), "truncated");
      const after = snapshotTree(dir);
      const run = await llmMigrate("rollback", dir);
      expect(run.status).toBe(3);
      expect(expectOneLineError(run)).toBe(
        `llm-migrate: ${join(dir, ".llm-migrate/backup/src/server.ts")}: backup is missing or damaged; nothing was rolled back`,
      );
      expect(snapshotTree(dir)).toEqual(after);
    });

    it("an unreadable manifest: rollback and apply exit 3 naming it, nothing touched", async () => {
      mkdirSync(join(dir, ".llm-migrate"));
      writeFileSync(join(dir, ".llm-migrate", "manifest.json"), "{ not json");
      const before = snapshotTree(dir);
      for (const command of ["rollback", "apply"]) {
        const run = await llmMigrate(command, dir);
        expect(run.status).toBe(3);
        expect(expectOneLineError(run)).toMatch(new RegExp(`^llm-migrate: ${join(dir, ".llm-migrate/manifest.json")}: unreadable: `));
      }
      expect(snapshotTree(dir)).toEqual(before);
    });
  });

  describe("express-cjs (the client in one module, the call in a route module)", () => {
    beforeEach(() => {
      dir = copyServer("express-cjs");
    });

    it("a route module that calls the client but does not parse: exit 3 naming it, nothing written", async () => {
      const route = read(dir, "routes/ask.js").replace("const router = express.Router();", "const router = express.Router(;");
      writeFileSync(join(dir, "routes", "ask.js"), route);
      const before = snapshotTree(dir);
      const run = await llmMigrate("apply", dir);
      expect(run.status).toBe(3);
      expect(expectOneLineError(run)).toMatch(new RegExp(`^llm-migrate: ${join(dir, "routes/ask.js")}: syntax error at 4:31: `));
      expect(snapshotTree(dir)).toEqual(before);
    });

    it("a second route module that does not parse and calls nothing: the rest is migrated, it is named and untouched", async () => {
      const broken = 'const express = require("express");\nmodule.exports = express.Router(;\n';
      writeFileSync(join(dir, "routes", "health.js"), broken);
      const before = snapshotTree(dir);
      const run = await llmMigrate("apply", dir);
      expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
      expect(run.stdout).toMatch(/warning\s+routes\/health\.js\s+syntax-error: does not parse, left unchanged: 2:33: /);
      const after = snapshotTree(dir);
      expect(read(dir, "routes/ask.js")).toContain("require(\"../llm-runtime\")");
      // Only the planned files changed: the broken one and the rest of the tree are as they were.
      const planned = (path: string) => /^(routes\/ask\.js|server\.js|package\.json|\.env\.example|llm-runtime\/.*|\.llm-migrate\/.*)$/.test(path);
      expect(without(after, planned)).toEqual(without(before, planned));
    });
  });
});
