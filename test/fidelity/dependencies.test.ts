// Dependencies: what the vendored runtime needs goes into the package.json that governs it, in a
// range that works, and nothing the project does not use.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { planMigration, textOf, type MigrationPlan } from "../../src/engine/index.js";
import { nodeDependencyPlan } from "../../src/engine/node-dependencies.js";
import { copyServer, removeScratch } from "../engine/helpers.js";
import { llmMigrate, repoRoot } from "../e2e/support.js";

const settings = { poolSize: 10, canaryPercent: 100 };
const packageJson = (plan: MigrationPlan) => JSON.parse(textOf(plan.changes.find((c) => c.path === "package.json")!.after)) as { dependencies: Record<string, string> };

describe("the runtime's dependencies", () => {
  let dir: string;
  afterEach(() => removeScratch(dir));

  function withOpenAi(range: string): string {
    dir = copyServer("express-ts");
    const path = join(dir, "package.json");
    writeFileSync(path, readFileSync(path, "utf8").replace('"express": "^4.21.2"', `"express": "^4.21.2",\n    "openai": "${range}"`));
    return dir;
  }

  // Seen: a project on openai ^4.70 crashed on the new path (`reading 'create'`: no responses API yet).
  it("raises an openai 4.x range below what the new path needs, within its major version, and says so", async () => {
    const plan = await planMigration(withOpenAi("^4.70.0"), settings);
    expect(packageJson(plan).dependencies["openai"]).toBe("^4.87.0");
    expect(plan.findings).toContainEqual(expect.objectContaining({ code: "openai-range-raised", file: "package.json", message: expect.stringContaining("^4.70.0 -> ^4.87.0") }));
  });

  // Seen: ^3.2 could not compile the vendored runtime; raising it to 4.x would break the project's own v3 code.
  it("leaves an openai 3.x range and reports it; the vendored runtime does not import openai statically", async () => {
    const plan = await planMigration(withOpenAi("^3.2.1"), settings);
    expect(packageJson(plan).dependencies["openai"]).toBe("^3.2.1");
    expect(plan.findings).toContainEqual(expect.objectContaining({ code: "openai-too-old", file: "package.json" }));
    const runtime = plan.changes.filter((c) => c.path.startsWith("src/llm-runtime/") && c.path.endsWith(".ts"));
    expect(runtime.length).toBeGreaterThan(3);
    for (const file of runtime) expect(textOf(file.after), file.path).not.toMatch(/from ["']openai["']|require\(["']openai["']\)/);
  });

  // Seen: an Anthropic-only project got openai added. Its SDK calls are gated with gateLlmCall, which
  // never calls openai; only a wrapper's calls (generateResponseAsync) need it.
  it("adds no openai when the gated client is another SDK", () => {
    const text = '{\n  "dependencies": {\n    "@anthropic-ai/sdk": "^0.30.0"\n  }\n}\n';
    const outcome = { callSites: [], findings: [], alreadyMigrated: false, client: { file: "src/server.ts", line: 4, name: "anthropic", kind: "sdk" as const, constructedWith: "Anthropic" } };
    expect(nodeDependencyPlan(text, outcome, { openai: "^6.49.0", "prom-client": "^15.1.3" })).toEqual({ edits: { add: { "prom-client": "^15.1.3" } } });
  });

  // The same, as a whole run of the CLI on an Anthropic-only project (fixtures/servers/anthropic-only).
  it("migrates an Anthropic-only project without openai: no dependency added, and the runtime loads and gates with no openai installed", async () => {
    dir = copyServer("anthropic-only");
    const applied = await llmMigrate("apply", dir);
    expect(applied.status, applied.stdout + applied.stderr).toBe(0);
    const { dependencies } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(Object.keys(dependencies).sort()).toEqual(["@anthropic-ai/sdk", "express", "prom-client"]);
    for (const file of readdirSync(join(dir, "llm-runtime")).filter((name) => name.endsWith(".js"))) {
      expect(readFileSync(join(dir, "llm-runtime", file), "utf8"), file).not.toMatch(/(from|import\(|require\()\s*["'](openai|@anthropic-ai\/sdk)["']/);
    }
    // node_modules with prom-client alone: no openai (and no Anthropic SDK) to be found anywhere.
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(join(repoRoot, "node_modules", "prom-client"), join(dir, "node_modules", "prom-client"), "dir");
    execFileSync(process.execPath, ["--check", "server.js"], { cwd: dir });
    const script = 'const { gateLlmCall, getAsyncLlmClient, getPathCounts } = await import("./llm-runtime/index.js"); getAsyncLlmClient({ poolSize: 2 }); const gated = await gateLlmCall({ key: "u1" }, (options) => typeof options.signal); console.log(gated, getPathCounts().new);';
    expect(execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: dir, encoding: "utf8" }).trim()).toBe("object 1");
  });

  // Seen: in an Nx monorepo the app folder has no package.json; the root's governs it.
  it("names the package.json above the folder when the folder has none", async () => {
    dir = copyServer("express-ts");
    const app = join(dir, "apps", "api");
    mkdirSync(join(dir, "apps"));
    renameSync(join(dir, "src"), join(dir, "src-moved"));
    mkdirSync(app);
    renameSync(join(dir, "src-moved"), join(app, "src"));
    const plan = await planMigration(app, settings);
    expect(plan.changes.map((c) => c.path)).not.toContain("package.json");
    expect(plan.findings).toContainEqual(expect.objectContaining({ code: "package-json-outside-folder", file: "../../package.json" }));
  });

  // A Dockerfile that copies the app file by file leaves the vendored runtime out of the image.
  it.each([
    ["COPY package.json ./\nCOPY src/server.ts src/llm-client.ts ./src/\n", true],
    ["COPY package.json ./\nCOPY src ./src\n", false],
    ["COPY . .\n", false],
  ])("reports a Dockerfile that copies only some files: %j", async (copies, reported) => {
    dir = copyServer("express-ts");
    writeFileSync(join(dir, "Dockerfile"), `FROM node:20-slim\nWORKDIR /app\n${copies}RUN npm ci\nCMD ["npx", "tsx", "src/server.ts"]\n`);
    const plan = await planMigration(dir, settings);
    const finding = expect.objectContaining({ code: "dockerfile-copies-some-files", file: "Dockerfile", line: 3, message: expect.stringContaining("src/llm-runtime") });
    if (reported) expect(plan.findings).toContainEqual(finding);
    else expect(plan.findings).not.toContainEqual(expect.objectContaining({ code: "dockerfile-copies-some-files" }));
  });
});
