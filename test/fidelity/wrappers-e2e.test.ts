// A wrapper's call on the new path goes where the wrapper's own call goes: each wrapper fixture is
// migrated by the CLI and run against the stub, once down the original path and once down the new
// one, and the stub must see the same request path and model both times. Where the gate is keyed
// by the request's userId, one server with a 50 % canary takes both (a user on each side); where
// it is keyed by the client's address, one server runs with FORCE_LEGACY_LLM on and one with it
// off. OPENAI_BASE_URL points at a decoy stub wherever the wrapper reads another variable, so a
// call sent to the runtime's default endpoint would show.
import { cpSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startOpenAiStub } from "../../src/stub/openai-stub.js";
import { canaryUsers, llmMigrate, postJson, repoRoot, startServer, oneCallSeen, useScratchFolder } from "../e2e/support.js";

const preload = join(repoRoot, "test", "fidelity", "listen-on-port.cjs");
const question = [{ role: "user", content: "hello" }];

interface WrapperCase {
  fixture: string;
  entry: string;
  body: object;
  /** The variable the wrapper reads its endpoint from. */
  baseUrlVariable: "LLM_BASE_URL" | "OPENAI_BASE_URL";
  /** What the gate apply wrote is keyed by: the body's userId, or the client's address. */
  key: "userId" | "ip";
}

/** Users on either side of a 50 % canary. */
const {
  inside: [insideCanary],
  outside: [outsideCanary],
} = canaryUsers(50, { inside: 1, outside: 1 }, "u");

const cases: WrapperCase[] = [
  { fixture: "wrapper-llm-base-url-chat", entry: "src/server.ts", body: { userId: "u1", message: "hello" }, baseUrlVariable: "LLM_BASE_URL", key: "userId" },
  { fixture: "wrapper-sdk-base-url", entry: "src/server.ts", body: { userId: "u1", messages: question }, baseUrlVariable: "LLM_BASE_URL", key: "userId" },
  { fixture: "async-wrapper-method", entry: "src/server.ts", body: { userId: "u1", name: "ann", message: "hello" }, baseUrlVariable: "LLM_BASE_URL", key: "userId" },
  { fixture: "blocking-wrapper-express-ts", entry: "src/server.ts", body: { userId: "u1", messages: question }, baseUrlVariable: "LLM_BASE_URL", key: "userId" },
  { fixture: "promise-chain-wrapper", entry: "src/server.ts", body: { userId: "u1", message: "hello" }, baseUrlVariable: "OPENAI_BASE_URL", key: "userId" },
  { fixture: "mutex-wrapper", entry: "server.js", body: { messages: question }, baseUrlVariable: "OPENAI_BASE_URL", key: "ip" },
  { fixture: "spawnsync-curl-wrapper", entry: "server.js", body: { messages: question }, baseUrlVariable: "OPENAI_BASE_URL", key: "ip" },
];

// Cases run side by side, each with its own stubs: most of the time goes to starting servers.
describe.concurrent("wrapper fixtures: the new path calls what the legacy path calls", () => {
  const scratch = useScratchFolder("llm-migrate-wrappers-");

  it.each(cases)("$fixture", async ({ fixture, entry, body, baseUrlVariable, key }) => {
    const dir = join(scratch.dir, fixture);
    cpSync(join(repoRoot, "fixtures", "gate-call-sites", fixture, "input"), dir, { recursive: true });
    symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
    const applied = await llmMigrate("apply", dir);
    expect(applied.status, applied.stdout + applied.stderr).toBe(0);

    const stub = await startOpenAiStub();
    const decoy = await startOpenAiStub();
    const command = entry.endsWith(".ts") ? [process.execPath, "--require", preload, "--import", "tsx", entry] : [process.execPath, "--require", preload, entry];
    const start = (env: Record<string, string>) =>
      startServer(command, dir, {
        OPENAI_BASE_URL: baseUrlVariable === "OPENAI_BASE_URL" ? stub.url : decoy.url,
        LLM_BASE_URL: stub.url,
        OPENAI_API_KEY: "sk-test-not-a-secret",
        ...env,
      });
    /** One request down each path, the original first: what the stub saw, and the server's path counts after it. */
    const seen: Awaited<ReturnType<typeof oneCallSeen>>[] = [];
    const ask = async (server: Awaited<ReturnType<typeof start>>, userId?: string) => {
      stub.reset();
      const answer = await postJson(`${server.url}/chat`, userId === undefined ? body : { ...body, userId });
      expect(answer.status, server.output()).toBe(200);
      seen.push(await oneCallSeen(server, stub));
    };
    try {
      if (key === "userId") {
        const server = await start({ LLM_CANARY_PERCENT: "50" });
        try {
          await ask(server, outsideCanary);
          await ask(server, insideCanary);
        } finally {
          await server.stop();
        }
      } else {
        for (const forceLegacy of ["1", "0"]) {
          const server = await start({ FORCE_LEGACY_LLM: forceLegacy });
          try {
            await ask(server);
          } finally {
            await server.stop();
          }
        }
      }
      expect(decoy.stats().requests).toBe(0);
    } finally {
      await stub.close();
      await decoy.close();
    }
    const [original, gated] = seen;
    expect(original!.paths).toEqual({ new: 0, legacy: 1 });
    expect(gated!.paths).toEqual(key === "userId" ? { new: 1, legacy: 1 } : { new: 1, legacy: 0 });
    expect({ endpoint: gated!.endpoint, model: gated!.model }).toEqual({ endpoint: original!.endpoint, model: original!.model });
  }, 120_000);
});
