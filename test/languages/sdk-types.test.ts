// Types first: with the SDK installed, its declarations tell which calls are its own.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { loadTarget } from "../../src/engine/load.js";
import { planMigration } from "../../src/engine/plan.js";
import { commitAll } from "../engine/helpers.js";

const scratch = mkdtempSync(join(tmpdir(), "llm-migrate-sdk-types-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A stand-in for an installed openai package: its package.json and declarations only. */
const INSTALLED_OPENAI = {
  "node_modules/openai/package.json": JSON.stringify({ name: "openai", version: "4.90.0", types: "index.d.ts", main: "index.js" }),
  "node_modules/openai/index.d.ts": [
    'import { Completions } from "./resources/chat";',
    "export default class OpenAI {",
    "  constructor(options?: { apiKey?: string });",
    "  chat: { completions: Completions };",
    "}",
    "",
  ].join("\n"),
  "node_modules/openai/resources/chat.d.ts": "export declare class Completions {\n  create(body: { model: string; messages: unknown[] }, options?: { signal?: AbortSignal }): Promise<{ id: string }>;\n}\n",
};

// The client reaches the call through a parameter no caller in the project fills: only its type says what it is.
const SERVICE = [
  'import type OpenAI from "openai";',
  "",
  "export async function ask(client: OpenAI, question: string) {",
  '  return client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: question }] });',
  "}",
  "",
].join("\n");

function writeTree(dir: string, tree: Record<string, string>): void {
  for (const [path, text] of Object.entries(tree)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

it("finds an SDK call by its type when the SDK is installed, and only then", async () => {
  const project = { "package.json": JSON.stringify({ name: "svc", type: "module", dependencies: { openai: "^4.90.0" } }), "src/ask.ts": SERVICE };
  const installed = join(scratch, "installed");
  writeTree(installed, { ...project, ...INSTALLED_OPENAI });
  commitAll(installed);
  const bare = join(scratch, "bare");
  writeTree(bare, project);
  commitAll(bare);
  const settings = { poolSize: 10, canaryPercent: 100 };
  const withTypes = await planMigration(installed, settings, { format: false });
  expect(withTypes.outcome.callSites.map((site) => `${site.file}:${site.line} ${site.state}`)).toEqual(["src/ask.ts:4 rewritten"]);
  expect(withTypes.changes.map((change) => change.path).filter((path) => path.startsWith("node_modules/"))).toEqual([]);
  const withoutTypes = await planMigration(bare, settings, { format: false });
  expect(withoutTypes.outcome.callSites).toEqual([]);
});

// openai ships each declaration twice (.d.ts for require, .d.mts for import) and more than an entry imports:
// only what the project's import resolves to (one flavour, the one the type checker binds it to), and what that imports, is added.
it("adds only the declarations the project's import reaches, in one flavour", async () => {
  const chat = INSTALLED_OPENAI["node_modules/openai/resources/chat.d.ts"];
  const entry = INSTALLED_OPENAI["node_modules/openai/index.d.ts"];
  const dual = join(scratch, "dual");
  writeTree(dual, {
    "package.json": JSON.stringify({ name: "svc", type: "module", dependencies: { openai: "^4.90.0" } }),
    "tsconfig.json": JSON.stringify({ compilerOptions: { module: "nodenext", moduleResolution: "nodenext", strict: true } }),
    "src/ask.ts": SERVICE,
    "node_modules/openai/package.json": JSON.stringify({
      name: "openai",
      types: "./index.d.ts",
      exports: { ".": { require: { types: "./index.d.ts", default: "./index.js" }, import: { types: "./index.d.mts", default: "./index.mjs" } } },
    }),
    "node_modules/openai/index.d.ts": entry,
    "node_modules/openai/index.d.mts": entry.replace('"./resources/chat"', '"./resources/chat.mjs"'),
    "node_modules/openai/resources/chat.d.ts": chat,
    "node_modules/openai/resources/chat.d.mts": chat,
    "node_modules/openai/resources/unused.d.ts": "export declare const unused: number;\n",
  });
  commitAll(dual);
  const settings = { poolSize: 10, canaryPercent: 100 };
  const { project } = await loadTarget(dual, settings);
  const added = project.getSourceFiles().map((file) => file.getFilePath().slice(dual.length + 1)).filter((path) => path.startsWith("node_modules/"));
  expect(added.sort()).toEqual(["node_modules/openai/index.d.ts", "node_modules/openai/resources/chat.d.ts"]);
  const plan = await planMigration(dual, settings, { format: false });
  expect(plan.outcome.callSites.map((site) => `${site.file}:${site.line} ${site.state}`)).toEqual(["src/ask.ts:4 rewritten"]);
});
