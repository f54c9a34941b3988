// Types first: with the SDK installed, its declarations tell which calls are its own.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, expect, it } from "vitest";
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
