import { mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BadInputError, planMigration, type MigrationPlan } from "../../src/engine/index.js";
import { gateCalls } from "./fixtures/gate-calls.js";
import { copyFixture, read, removeScratch, repoRoot, snapshotTree } from "./helpers.js";

const settings = { poolSize: 8, canaryPercent: 25 };
const ownPackage = JSON.parse(read(repoRoot, "package.json")) as { dependencies: Record<string, string> };
const runtimeSources = readdirSync(join(repoRoot, "runtime")).filter((name) => /^[^.]+\.ts$/.test(name) && !/\.(test|spec)\.ts$/.test(name));

function changeOf(plan: MigrationPlan, path: string) {
  const change = plan.changes.find((c) => c.path === path);
  if (!change) throw new Error(`no planned change for ${path}: ${plan.changes.map((c) => c.path).join(", ")}`);
  return { ...change, text: change.after.toString("utf8") };
}

describe("planning a migration", () => {
  let dir: string;
  beforeEach(() => {
    dir = copyFixture("legacy-server");
    writeFileSync(join(dir, ".env"), "OPENAI_API_KEY=not-a-real-key\n");
  });
  afterEach(() => removeScratch(dir));

  it("works out every change without writing anything", async () => {
    const before = snapshotTree(dir);
    const plan = await planMigration(dir, settings, { migrate: gateCalls });
    expect(snapshotTree(dir)).toEqual(before);
    expect(plan.status).toBe("pending");
    expect(plan.changes.map((c) => [c.path, c.action])).toEqual(
      [
        [".env.example", "modified"],
        ["package.json", "modified"],
        ...[...runtimeSources, "README.md"].map((name) => [`src/llm-runtime/${name}`, "created"]),
        ["src/server.ts", "modified"],
        ["src/summarise.ts", "modified"],
      ].sort(([a], [b]) => (a! < b! ? -1 : 1)),
    );
    expect(plan.outcome.callSites.map((s) => [s.file, s.line, s.state])).toEqual([
      ["src/server.ts", 10, "rewritten"],
      ["src/summarise.ts", 5, "left"],
      ["src/summarise.ts", 10, "rewritten"],
    ]);
  });

  it("rewrites the call sites and keeps a CRLF file's line breaks and BOM", async () => {
    const plan = await planMigration(dir, settings, { migrate: gateCalls });
    expect(changeOf(plan, "src/server.ts").text).toContain(
      "const reply = useNewLlmPath({ key: userId }) ? getAsyncLlmClient().generateResponseAsync(req.body.messages) : llmClient.generateResponse(req.body.messages);\n",
    );
    const summarise = changeOf(plan, "src/summarise.ts");
    expect(summarise.after.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(summarise.text.replace(/\r\n/g, "")).not.toContain("\n");
    expect(summarise.text).toContain('import { getAsyncLlmClient, useNewLlmPath } from "./llm-runtime/index.js";\r\n');
  });

  it("vendors the runtime sources as they are for a TypeScript server", async () => {
    const plan = await planMigration(dir, settings, { migrate: gateCalls });
    for (const name of runtimeSources) {
      expect(changeOf(plan, `src/llm-runtime/${name}`).text).toBe(read(repoRoot, `runtime/${name}`));
    }
  });

  it("transpiles the runtime to JavaScript for an ESM server", async () => {
    const plan = await planMigration(dir, settings, {
      migrate: (input) => ({ ...gateCalls(input), runtimeFlavour: "esm" }),
    });
    const index = changeOf(plan, "src/llm-runtime/index.js").text;
    expect(index).not.toMatch(/^export (interface|declare)/m);
    expect(plan.changes.some((c) => c.path.startsWith("src/llm-runtime/") && c.path.endsWith(".ts"))).toBe(false);
  });

  it("adds openai and prom-client to package.json in the file's own indentation", async () => {
    const plan = await planMigration(dir, settings, { migrate: gateCalls });
    expect(changeOf(plan, "package.json").text).toBe(
      [
        "{",
        '    "name": "legacy-chat",',
        '    "private": true,',
        '    "type": "module",',
        '    "dependencies": {',
        '        "express": "^4.21.2",',
        `        "openai": "${ownPackage.dependencies.openai}",`,
        `        "prom-client": "${ownPackage.dependencies["prom-client"]}"`,
        "    }",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("appends the new settings to .env.example and never touches .env", async () => {
    const plan = await planMigration(dir, settings, { migrate: gateCalls });
    const env = changeOf(plan, ".env.example").text;
    expect(env.startsWith("OPENAI_API_KEY=\nPORT=3000\n\n# llm-migrate:")).toBe(true);
    expect(env.split("\n").filter((line) => /^[A-Z_]+=/.test(line)).slice(2)).toEqual([
      "LLM_POOL_SIZE=8",
      "LLM_CANARY_PERCENT=25",
      "FORCE_LEGACY_LLM=false",
      "DISABLE_POOL=false",
      "EMERGENCY_MODE=false",
      "LLM_MAX_QUEUE=",
      "LLM_TIMEOUT_MS=",
    ]);
    expect(plan.changes.some((c) => c.path === ".env")).toBe(false);
  });

  it("creates .env.example when the project has no settings file", async () => {
    writeFileSync(join(dir, ".env.example"), "");
    const plan = await planMigration(dir, settings, { migrate: gateCalls });
    expect(changeOf(plan, ".env.example").text).toMatch(/^# llm-migrate:.*\n(.*\n)*LLM_TIMEOUT_MS=\n$/);
  });

  it("writes the settings into .env.sample when that is the project's file", async () => {
    renameSync(join(dir, ".env.example"), join(dir, ".env.sample"));
    const plan = await planMigration(dir, settings, { migrate: gateCalls });
    expect(changeOf(plan, ".env.sample").action).toBe("modified");
    expect(plan.changes.some((c) => c.path === ".env.example")).toBe(false);
  });

  it("changes nothing and vendors nothing when no call site is found", async () => {
    const plan = await planMigration(dir, { ...settings, method: "noSuchMethod" }, { migrate: gateCalls });
    expect(plan.status).toBe("nothing-to-do");
    expect(plan.changes).toEqual([]);
  });

  it("skips binary and very large files, and symlinks out of the tree, reporting each", async () => {
    writeFileSync(join(dir, "src", "blob.js"), Buffer.from([0x6c, 0x6c, 0x6d, 0x00, 0x01]));
    writeFileSync(join(dir, "src", "bundle.js"), "// llm\n" + "x".repeat(1024 * 1024));
    const outside = join(dir, "..", "outside.ts");
    writeFileSync(outside, "llmClient.generateResponse([]);\n");
    symlinkSync(outside, join(dir, "src", "linked.ts"));
    const plan = await planMigration(dir, settings, { migrate: gateCalls });
    expect(plan.findings.map((f) => [f.code, f.file])).toEqual([
      ["skipped-symlink-out-of-tree", "src/linked.ts"],
      ["skipped-binary-file", "src/blob.js"],
      ["skipped-large-file", "src/bundle.js"],
    ]);
    expect(plan.outcome.callSites.some((s) => s.file === "src/linked.ts")).toBe(false);
  });

  it("does not parse files that mention neither an LLM nor a server", async () => {
    writeFileSync(join(dir, "src", "util.ts"), "export const add = (a: number, b: number =>\n");
    const plan = await planMigration(dir, settings, { migrate: gateCalls });
    expect(plan.findings).toEqual([]);
  });

  it("names a file with a syntax error that the migration must change", async () => {
    writeFileSync(join(dir, "src", "server.ts"), read(dir, "src/server.ts").replace("app.listen(3000);", "app.listen(3000;"));
    const error = await planMigration(dir, settings, { migrate: gateCalls }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadInputError);
    expect(error).toMatchObject({ path: "src/server.ts", exitCode: 3, message: "syntax error at 14:16: ')' expected." });
  });

  it("goes on past a syntax error in a file the migration does not change, and reports it", async () => {
    writeFileSync(join(dir, "src", "health.ts"), 'import express from "express";\nexport const router = express.Router(;\n');
    const plan = await planMigration(dir, settings, { migrate: gateCalls });
    expect(plan.status).toBe("pending");
    expect(plan.findings).toEqual([
      { code: "syntax-error", kind: "warning", file: "src/health.ts", message: "does not parse, left unchanged: 2:38: ')' expected." },
    ]);
  });

  it("names a missing folder and a file given as the folder", async () => {
    await expect(planMigration(join(dir, "nope"), settings, { migrate: gateCalls })).rejects.toMatchObject({ path: ".", message: "no such file or directory", exitCode: 3 });
    await expect(planMigration(join(dir, "package.json"), settings, { migrate: gateCalls })).rejects.toMatchObject({ message: "not a directory", exitCode: 3 });
  });

  it("checks the entry file the user names", async () => {
    await expect(planMigration(dir, { ...settings, entry: "src/missing.ts" }, { migrate: gateCalls })).rejects.toMatchObject({ path: "src/missing.ts", exitCode: 3 });
    await expect(planMigration(dir, { ...settings, entry: "../outside.ts" }, { migrate: gateCalls })).rejects.toMatchObject({ message: "--entry is outside the folder" });
    const plan = await planMigration(dir, { ...settings, entry: "./src/util.ts" }, { migrate: gateCalls });
    expect(plan.settings.entry).toBe("src/util.ts");
  });

  it("refuses to write through a symlinked package.json", async () => {
    const elsewhere = join(dir, "..", "shared-package.json");
    writeFileSync(elsewhere, read(dir, "package.json"));
    rmSync(join(dir, "package.json"));
    symlinkSync(elsewhere, join(dir, "package.json"));
    await expect(planMigration(dir, settings, { migrate: gateCalls })).rejects.toMatchObject({ path: "package.json", exitCode: 3 });
  });

  it("refuses to vendor the runtime into a symlinked folder that leads out of the tree", async () => {
    const elsewhere = join(dir, "..", "elsewhere");
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(dir, "src", "llm-runtime"));
    await expect(planMigration(dir, settings, { migrate: gateCalls })).rejects.toMatchObject({ path: expect.stringMatching(/^src\/llm-runtime\//), exitCode: 3 });
  });

  describe("formatting with the project's Prettier config", () => {
    const prettierrc = '{ "semi": false }\n';

    it("formats a changed file that the config already formatted", async () => {
      writeFileSync(join(dir, ".prettierrc"), prettierrc);
      writeFileSync(join(dir, "src", "llm.ts"), "export const llmClient = { generateResponse: (m: unknown[]) => String(m.length) }\n");
      writeFileSync(join(dir, "src", "server.ts"), 'import { llmClient } from "./llm.js"\n\nexport function reply(userId: string) {\n  return llmClient.generateResponse([userId])\n}\n');
      const plan = await planMigration(dir, settings, { migrate: gateCalls });
      expect(changeOf(plan, "src/server.ts").text).toBe(
        [
          'import { llmClient } from "./llm.js"',
          'import { getAsyncLlmClient, useNewLlmPath } from "./llm-runtime/index.js"',
          "",
          "export function reply(userId: string) {",
          "  return useNewLlmPath({ key: userId })",
          "    ? getAsyncLlmClient().generateResponseAsync([userId])",
          "    : llmClient.generateResponse([userId])",
          "}",
          "",
        ].join("\n"),
      );
    });

    it("leaves the migration's text alone when the original was not formatted by it", async () => {
      writeFileSync(join(dir, ".prettierrc"), prettierrc);
      const plan = await planMigration(dir, settings, { migrate: gateCalls });
      expect(changeOf(plan, "src/server.ts").text).toContain('from "./llm-runtime/index.js";');
    });

    it("leaves it alone with --no-format", async () => {
      writeFileSync(join(dir, ".prettierrc"), prettierrc);
      writeFileSync(join(dir, "src", "server.ts"), 'import { llmClient } from "./llm.js"\n\nexport function reply(userId: string) {\n  return llmClient.generateResponse([userId])\n}\n');
      const plan = await planMigration(dir, settings, { migrate: gateCalls, format: false });
      expect(changeOf(plan, "src/server.ts").text).toContain('from "./llm-runtime/index.js";');
    });
  });
});

describe("finding the files of a folder that is not in git", () => {
  it("reads the entry file the user names even when .gitignore leaves it out", async () => {
    const dir = copyFixture("legacy-server");
    try {
      mkdirSync(join(dir, "generated"));
      writeFileSync(join(dir, "generated", "start.ts"), "llmClient.generateResponse([]);\n");
      writeFileSync(join(dir, ".gitignore"), "generated/\n");
      const plan = await planMigration(dir, { ...settings, entry: "generated/start.ts" }, { migrate: gateCalls });
      expect(plan.outcome.callSites.map((s) => s.file)).toContain("generated/start.ts");
    } finally {
      removeScratch(dir);
    }
  });

  it("parses the files that mention the client, the modules that import them and what those import that could call an LLM, and no other", async () => {
    const dir = copyFixture("legacy-server");
    try {
      // routes → service → client module; neither routes nor service names the SDK or the client.
      writeFileSync(join(dir, "src", "ask.ts"), 'import { summary } from "./service.js";\nimport { add } from "./util.js";\nexport const ask = () => summary(add(1, 2));\n');
      writeFileSync(join(dir, "src", "service.ts"), 'import { summarise } from "./summarise";\nexport const summary = (n: number) => summarise(String(n));\n');
      writeFileSync(join(dir, "src", "unrelated.ts"), 'import { add } from "./util.js";\nexport const three = add(1, 2);\n');
      let parsed: string[] = [];
      await planMigration(dir, settings, {
        migrate: (input) => {
          parsed = input.project.getSourceFiles().map((f) => f.getFilePath().slice(dir.length + 1)).sort();
          return gateCalls(input);
        },
      });
      // util.ts, imported by ask.ts, only adds numbers: not parsed.
      expect(parsed).toEqual(["src/ask.ts", "src/llm.ts", "src/server.ts", "src/service.ts", "src/summarise.ts"]);
    } finally {
      removeScratch(dir);
    }
  });

  it("skips node_modules, build output and what the root .gitignore ignores", async () => {
    const dir = copyFixture("legacy-server");
    try {
      for (const folder of ["node_modules/openai", "dist", "generated"]) {
        mkdirSync(join(dir, folder), { recursive: true });
        writeFileSync(join(dir, folder, "index.js"), "llmClient.generateResponse([]);\n");
      }
      writeFileSync(join(dir, ".gitignore"), "generated/\n");
      const plan = await planMigration(dir, settings, { migrate: gateCalls });
      expect(new Set(plan.outcome.callSites.map((s) => s.file))).toEqual(new Set(["src/server.ts", "src/summarise.ts"]));
    } finally {
      removeScratch(dir);
    }
  });
});

