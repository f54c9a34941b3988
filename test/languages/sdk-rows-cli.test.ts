// Every SDK row goes through the engine's own file loading and relevance filter, as the CLI runs
// it: the SDK call sits in a service module that names no web framework, imported by the server.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/index.js";
import { planMigration } from "../../src/engine/plan.js";
import { FIXTURES, migrateTree, readTree } from "../transforms/helpers.js";

const scratch = mkdtempSync(join(tmpdir(), "llm-migrate-sdk-rows-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const settings = { poolSize: 10, canaryPercent: 100 };
const cases = ["sdk-ai", "sdk-anthropic", "sdk-azure-openai-client", "sdk-google-genai", "sdk-google-generative-ai", "sdk-groq", "sdk-langchain", "sdk-mistral", "sdk-ollama", "sdk-v4-endpoints", "sdk-v3-openaiapi"];

function copyCase(name: string): string {
  const dir = join(scratch, name);
  cpSync(join(FIXTURES, "gate-call-sites", name, "input"), dir, { recursive: true });
  return dir;
}

describe("each SDK row through the CLI's loading", () => {
  it.each(cases)("%s: the engine finds the calls the transform runner finds", async (name) => {
    const dir = copyCase(name);
    const plan = await planMigration(dir, settings, { format: false });
    const { outcome } = await migrateTree(readTree(join(FIXTURES, "gate-call-sites", name, "input")), ["gate-call-sites"]);
    expect(plan.outcome.callSites.length).toBeGreaterThan(0);
    expect(plan.outcome.callSites).toEqual(outcome.callSites);
    expect(plan.changes.map((change) => change.path)).toContain(outcome.callSites[0]!.file);
  });

  it("finds an SDK call in a module that names no framework and no LLM word but its import", async () => {
    const dir = join(scratch, "service-only");
    cpSync(join(FIXTURES, "gate-call-sites", "sdk-ollama", "input"), dir, { recursive: true });
    writeFileSync(
      join(dir, "reply.js"),
      'import ollama from "ollama";\n\nexport async function reply(messages) {\n  const response = await ollama.chat({ model: "llama3.2", messages });\n  return response.message.content;\n}\n',
    );
    const plan = await planMigration(dir, settings, { format: false });
    expect(plan.outcome.callSites).toContainEqual(expect.objectContaining({ file: "reply.js", callee: "ollama.chat", state: "rewritten" }));
  });
});

describe("an honest outcome", () => {
  it("writes nothing, exits 7 and names every call when no LLM call can be gated", async () => {
    const dir = copyCase("sdk-anthropic");
    // Both calls in constructors: nothing the tool can gate.
    writeFileSync(
      join(dir, "server.js"),
      [
        'import Anthropic from "@anthropic-ai/sdk";',
        "const anthropic = new Anthropic();",
        "class Greeter {",
        "  constructor() {",
        '    this.greeting = anthropic.messages.stream({ model: "m", max_tokens: 9, messages: [] });',
        "  }",
        "}",
        "export const greeter = new Greeter();",
        'const first = anthropic.messages.stream({ model: "m", max_tokens: 9, messages: [] });',
        "",
      ].join("\n"),
    );
    const before = readFileSync(join(dir, "server.js"), "utf8");
    let stdout = "";
    const code = await main(["node", "llm-migrate", "apply", dir, "--allow-dirty"], {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: () => true },
      env: { NO_COLOR: "1" },
    });
    expect(code).toBe(7);
    expect(readFileSync(join(dir, "server.js"), "utf8")).toBe(before);
    expect(stdout).toContain("server.js:5  anthropic.messages.stream CONSTRUCTOR");
    expect(stdout).toContain("server.js:9  anthropic.messages.stream TOP_LEVEL");
    expect(stdout).toContain("nothing was written");
  });

  it("scan --check exits 1 while apply has calls to gate, 0 once they are gated, 7 while one is left", async () => {
    const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: { NO_COLOR: "1" } };
    const dir = copyCase("sdk-groq");
    expect(await main(["node", "llm-migrate", "scan", dir, "--check"], io)).toBe(1);
    expect(await main(["node", "llm-migrate", "scan", dir], io)).toBe(0);
    expect(await main(["node", "llm-migrate", "apply", dir, "--allow-dirty"], io)).toBe(0);
    expect(await main(["node", "llm-migrate", "scan", dir, "--check"], io)).toBe(0);
    const left = copyCase("sdk-ai");
    expect(await main(["node", "llm-migrate", "scan", left, "--check"], io)).toBe(7);
  });
});
