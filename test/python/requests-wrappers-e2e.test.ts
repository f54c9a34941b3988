// Python fixtures whose LLM call is a `requests` call (an ollama wrapper, a bare request, a bot's
// call) do on the new path what they did before: each is migrated by the CLI and run against the
// stub (its ollama routes) with FORCE_LEGACY_LLM on and off, and the stub must see the same path and
// model both times. The FastAPI apps run under real uvicorn; the bot has no server, so one Debian
// Python process calls its handler on both branches.
import { execFile } from "node:child_process";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { startOpenAiStub } from "../../src/stub/openai-stub.js";
import { describeWithRequests } from "../debian-python.js";
import { llmMigrate, repoRoot, oneCallSeen, useScratchFolder } from "../e2e/support.js";
import { PYTHON } from "../paths.js";
import { startUvicorn } from "./uvicorn.js";

interface ServerCase {
  fixture: string;
  /** The route to call, with its query. */
  route: string;
  body: object;
  /** The ollama path the wrapper calls. */
  endpoint: string;
  /** apply's exit code: 7 where the fixture also holds a call left for a human (a streamed request). */
  exitCode: number;
}

const servers: ServerCase[] = [
  { fixture: "global-startup-wrapper", route: "/ask?user_id=u1", body: { question: "hello" }, endpoint: "/api/chat", exitCode: 0 },
  { fixture: "sync-http-llm-call", route: "/generate", body: { user_id: "u1", text: "hello" }, endpoint: "/api/generate", exitCode: 7 },
];

// Both branches in one process: the switches are read again after each flip (reload_llm_switches).
// The script creates no client: importing the migrated bot module starts it.
const botScript = `
import asyncio, json, os
import bot, llm_api

async def main():
    for force in ("1", "0"):
        os.environ["FORCE_LEGACY_LLM"] = force
        llm_api.reload_llm_switches()
        print(await bot.on_message("u1", "hello"))
    print(json.loads(llm_api.metrics_response()[2])["paths"])

asyncio.run(main())
`;

describeWithRequests.concurrent("requests-based Python wrappers: the new path calls what the legacy path calls", () => {
  const scratch = useScratchFolder("llm-migrate-py-wrappers-");

  const migrated = async (fixture: string, exitCode = 0) => {
    const dir = join(scratch.dir, fixture);
    cpSync(join(repoRoot, "fixtures", "python", "gate-call-sites", fixture, "input"), dir, { recursive: true });
    const applied = await llmMigrate("apply", dir);
    expect(applied.status, applied.stdout + applied.stderr).toBe(exitCode);
    return dir;
  };

  it.each(servers)("$fixture under uvicorn", async ({ fixture, route, body, endpoint, exitCode }) => {
    const dir = await migrated(fixture, exitCode);
    const stub = await startOpenAiStub();
    const origin = stub.url.replace(/\/v1$/, "");
    const seen: Record<string, Awaited<ReturnType<typeof oneCallSeen>>> = {};
    try {
      for (const forceLegacy of ["1", "0"]) {
        stub.reset();
        // The webhook the route also posts to goes to a path the stub answers 404 and does not record.
        const server = await startUvicorn("main:app", dir, stub.url, { OLLAMA_URL: origin, SLACK_WEBHOOK_URL: `${origin}/hook`, FORCE_LEGACY_LLM: forceLegacy });
        try {
          const answer = await fetch(`${server.url}${route}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
          expect(answer.status, server.output()).toBe(200);
          expect(JSON.stringify(await answer.json())).toContain("echo: hello");
          seen[forceLegacy] = await oneCallSeen(server, stub);
        } finally {
          await server.stop();
        }
      }
    } finally {
      await stub.close();
    }
    expect(seen["1"]).toEqual({ endpoint, model: "llama3", paths: { new: 0, legacy: 1 } });
    expect(seen["0"]).toEqual({ endpoint, model: "llama3", paths: { new: 1, legacy: 0 } });
  }, 120_000);

  it("bot-service-calls, its handler called directly", async () => {
    const dir = await migrated("bot-service-calls");
    const stub = await startOpenAiStub();
    try {
      // Async, so the uvicorn cases running beside it keep their event loop.
      const run = await promisify(execFile)(PYTHON, ["-c", botScript], {
        cwd: join(dir, "bot"),
        env: { ...process.env, OLLAMA_URL: stub.url.replace(/\/v1$/, ""), PYTHONDONTWRITEBYTECODE: "1" },
      });
      expect(run.stdout, run.stderr).toBe("echo: hello\necho: hello\n{'new': 1, 'legacy': 1}\n");
      const received = stub.stats().received.map(({ endpoint, model }) => ({ endpoint, model }));
      expect(received).toEqual([{ endpoint: "/api/generate", model: "llama3" }, { endpoint: "/api/generate", model: "llama3" }]);
    } finally {
      await stub.close();
    }
  });
});
