// A wrapper's call on the new path goes where the wrapper's own call goes: each wrapper fixture is
// migrated by the CLI, run against the stub with FORCE_LEGACY_LLM on and off, and the stub must see
// the same request path and model both times. OPENAI_BASE_URL points at a decoy stub wherever the
// wrapper reads another variable, so a call sent to the runtime's default endpoint would show.
import { cpSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startOpenAiStub } from "../../src/stub/openai-stub.js";
import { llmMigrate, postJson, repoRoot, startServer, oneCallSeen, useScratchFolder } from "../e2e/support.js";

const preload = join(repoRoot, "test", "fidelity", "listen-on-port.cjs");
const question = [{ role: "user", content: "hello" }];

interface WrapperCase {
  fixture: string;
  entry: string;
  body: object;
  /** The variable the wrapper reads its endpoint from. */
  baseUrlVariable: "LLM_BASE_URL" | "OPENAI_BASE_URL";
}

const cases: WrapperCase[] = [
  { fixture: "wrapper-llm-base-url-chat", entry: "src/server.ts", body: { userId: "u1", message: "hello" }, baseUrlVariable: "LLM_BASE_URL" },
  { fixture: "wrapper-sdk-base-url", entry: "src/server.ts", body: { userId: "u1", messages: question }, baseUrlVariable: "LLM_BASE_URL" },
  { fixture: "async-wrapper-method", entry: "src/server.ts", body: { userId: "u1", name: "ann", message: "hello" }, baseUrlVariable: "LLM_BASE_URL" },
  { fixture: "blocking-wrapper-express-ts", entry: "src/server.ts", body: { userId: "u1", messages: question }, baseUrlVariable: "LLM_BASE_URL" },
  { fixture: "promise-chain-wrapper", entry: "src/server.ts", body: { userId: "u1", message: "hello" }, baseUrlVariable: "OPENAI_BASE_URL" },
  { fixture: "mutex-wrapper", entry: "server.js", body: { messages: question }, baseUrlVariable: "OPENAI_BASE_URL" },
  { fixture: "spawnsync-curl-wrapper", entry: "server.js", body: { messages: question }, baseUrlVariable: "OPENAI_BASE_URL" },
];

// Cases run side by side, each with its own stubs: most of the time goes to starting servers.
describe.concurrent("wrapper fixtures: the new path calls what the legacy path calls", () => {
  const scratch = useScratchFolder("llm-migrate-wrappers-");

  it.each(cases)("$fixture", async ({ fixture, entry, body, baseUrlVariable }) => {
    const dir = join(scratch.dir, fixture);
    cpSync(join(repoRoot, "fixtures", "gate-call-sites", fixture, "input"), dir, { recursive: true });
    symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
    const applied = await llmMigrate("apply", dir);
    expect(applied.status, applied.stdout + applied.stderr).toBe(0);

    const stub = await startOpenAiStub();
    const decoy = await startOpenAiStub();
    const seen: Record<string, Awaited<ReturnType<typeof oneCallSeen>>> = {};
    try {
      for (const forceLegacy of ["1", "0"]) {
        stub.reset();
        const command = entry.endsWith(".ts") ? [process.execPath, "--require", preload, "--import", "tsx", entry] : [process.execPath, "--require", preload, entry];
        const server = await startServer(command, dir, {
          OPENAI_BASE_URL: baseUrlVariable === "OPENAI_BASE_URL" ? stub.url : decoy.url,
          LLM_BASE_URL: stub.url,
          OPENAI_API_KEY: "sk-test-not-a-secret",
          FORCE_LEGACY_LLM: forceLegacy,
        });
        try {
          const answer = await postJson(`${server.url}/chat`, body);
          expect(answer.status, server.output()).toBe(200);
          seen[forceLegacy] = await oneCallSeen(server, stub);
        } finally {
          await server.stop();
        }
      }
      expect(decoy.stats().requests).toBe(0);
    } finally {
      await stub.close();
      await decoy.close();
    }
    expect(seen["1"]!.paths).toEqual({ new: 0, legacy: 1 });
    expect(seen["0"]!.paths).toEqual({ new: 1, legacy: 0 });
    expect({ endpoint: seen["0"]!.endpoint, model: seen["0"]!.model }).toEqual({ endpoint: seen["1"]!.endpoint, model: seen["1"]!.model });
  }, 120_000);
});
