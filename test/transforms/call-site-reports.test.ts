import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { reasonTable } from "../../transforms/index.js";
import { expectedTree, FIXTURES, migrateTree, readTree } from "./helpers.js";

const gate = ["gate-call-sites"];

/** Like typescript-eslint's rule tests: each case with the exact report entries it must produce. */
const cases = [
  {
    name: "rewrites a blocking wrapper call inside an Express handler, keyed by userId",
    fixture: "gate-call-sites/blocking-wrapper-express-ts",
    callSites: [
      { file: "src/server.ts", line: 11, column: 17, callee: "llm.generateResponse", state: "rewritten", key: "userId" },
    ],
    findings: [
      { code: "BLOCKING_CHILD_PROCESS", kind: "info", file: "src/llm-client.ts", line: 11 },
    ],
  },
  {
    name: "rewrites an awaited SDK call in CommonJS, keyed by req.user.id",
    fixture: "gate-call-sites/async-sdk-cjs",
    callSites: [
      { file: "server.js", line: 10, column: 28, callee: "openai.chat.completions.create", state: "rewritten", key: "req.user.id" },
    ],
    findings: [],
  },
  {
    name: "follows an exported client into a route module, keyed by the x-user-id header",
    fixture: "gate-call-sites/exported-client-esm",
    callSites: [
      { file: "routes/summarize.js", line: 7, column: 26, callee: "openai.responses.create", state: "rewritten", key: "req.headers[\"x-user-id\"]" },
    ],
    findings: [],
  },
  {
    name: "gates a client assigned in the listen callback, keyed by the client address",
    fixture: "gate-call-sites/listen-callback-client",
    callSites: [
      { file: "server.ts", line: 14, column: 28, callee: "client.chat.completions.create", state: "rewritten", key: "req.ip" },
    ],
    findings: [],
  },
  {
    name: "gates calls through a lazy getter, keyed by currentUser.id",
    fixture: "gate-call-sites/lazy-getter-client",
    callSites: [
      { file: "server.ts", line: 15, column: 28, callee: "getClient().chat.completions.create", state: "rewritten", key: "currentUser.id" },
    ],
    findings: [],
  },
  {
    name: "gates a wrapper method that already returns a promise, keyed by user.id",
    fixture: "gate-call-sites/async-wrapper-method",
    callSites: [
      { file: "src/server.ts", line: 14, column: 23, callee: "chat.generateResponse", state: "rewritten", key: "user.id" },
    ],
    findings: [],
  },
  {
    name: "leaves a call in a constructor",
    fixture: "gate-call-sites/constructor-call-left",
    callSites: [
      { file: "src/server.ts", line: 10, column: 17, callee: "llm.generateResponse", state: "left", reason: "CONSTRUCTOR" },
    ],
    findings: [
      { code: "BLOCKING_CHILD_PROCESS", kind: "info", file: "src/llm-client.ts", line: 11 },
    ],
  },
  {
    name: "leaves a call in a sync helper that others call",
    fixture: "gate-call-sites/sync-helper-left",
    callSites: [
      { file: "src/server.ts", line: 7, column: 10, callee: "llm.generateResponse", state: "left", reason: "SYNC_CALLER" },
    ],
    findings: [
      { code: "BLOCKING_CHILD_PROCESS", kind: "info", file: "src/llm-client.ts", line: 11 },
    ],
  },
  {
    name: "leaves a call on a client built from the request's own key, by design, and changes nothing",
    fixture: "gate-call-sites/per-request-client-unchanged",
    callSites: [
      { file: "server.ts", line: 10, column: 28, callee: "openai.chat.completions.create", state: "left", reason: "PER_REQUEST_CREDENTIAL" },
    ],
    findings: [{ code: "PER_REQUEST_CLIENT", kind: "info", file: "server.ts", line: 9 }],
  },
  {
    name: "gates a client built per request from the server's own key",
    fixture: "gate-call-sites/per-request-server-key-gated",
    callSites: [
      { file: "server.js", line: 8, column: 28, callee: "openai.chat.completions.create", state: "rewritten", key: "request.ip" },
    ],
    findings: [],
  },
  {
    name: "does not take an SDK's own error and stream classes for clients",
    fixture: "gate-call-sites/sdk-internal-classes-unchanged",
    callSites: [],
    findings: [{ code: "NO_SHARED_CLIENT", kind: "warning" }],
  },
  {
    name: "does not take a route handler called openai for a client",
    fixture: "gate-call-sites/handler-named-openai-unchanged",
    callSites: [],
    findings: [
      { code: "NO_SHARED_CLIENT", kind: "warning" },
    ],
  },
  {
    name: "gates a call in a service module and wraps the handler that calls the service",
    fixture: "gate-call-sites/service-module-client",
    callSites: [
      { file: "src/services/summary.ts", line: 4, column: 28, callee: "llm.chat.completions.create", state: "rewritten" },
    ],
    findings: [],
  },
  {
    name: "follows `export default new OpenAI()` into the route module",
    fixture: "gate-call-sites/default-export-new-client",
    callSites: [
      { file: "src/server.ts", line: 9, column: 28, callee: "openai.chat.completions.create", state: "rewritten", key: "userId" },
    ],
    findings: [],
  },
  {
    name: "follows `module.exports = new OpenAI()` into require()",
    fixture: "gate-call-sites/cjs-module-exports-new-client",
    callSites: [
      { file: "server.js", line: 8, column: 26, callee: "openai.responses.create", state: "rewritten", key: "req.ip" },
    ],
    findings: [],
  },
  {
    name: "follows a client re-exported through index files (export *, export { as })",
    fixture: "gate-call-sites/reexported-client",
    callSites: [
      { file: "src/server.ts", line: 10, column: 28, callee: "openai.chat.completions.create", state: "rewritten", key: "userId" },
      { file: "src/server.ts", line: 16, column: 27, callee: "llm.embeddings.create", state: "rewritten", key: "userId" },
    ],
    findings: [],
  },
  {
    name: "follows `exports.openai = new OpenAI()` through `module.exports = require()`",
    fixture: "gate-call-sites/reexported-client-cjs",
    callSites: [
      { file: "server.js", line: 9, column: 28, callee: "openai.chat.completions.create", state: "rewritten", key: "userId" },
    ],
    findings: [],
  },
  {
    name: "follows a client decorated on Fastify to `const { openai } = fastify` and request.server",
    fixture: "gate-call-sites/fastify-decorated-client",
    callSites: [
      { file: "routes.js", line: 5, column: 30, callee: "openai.chat.completions.create", state: "rewritten", key: "request.ip" },
      { file: "routes.js", line: 10, column: 28, callee: "request.server.openAIClient.responses.create", state: "rewritten", key: "request.ip" },
    ],
    findings: [],
  },
  {
    name: "gates the own client of each Nest provider (property initializers) through one pool",
    fixture: "gate-call-sites/nest-service-property-client",
    callSites: [
      { file: "src/chat.service.ts", line: 10, column: 30, callee: "this.openai.chat.completions.create", state: "rewritten", key: "userId" },
      { file: "src/moderation.service.ts", line: 9, column: 30, callee: "this.client.moderations.create", state: "rewritten" },
    ],
    findings: [],
  },
  {
    name: "gates this.openai of a Nest provider built in the constructor, and says there is no entry file",
    fixture: "gate-call-sites/nest-service-constructor-client",
    callSites: [
      { file: "src/summary.service.ts", line: 14, column: 28, callee: "this.openai.responses.create", state: "rewritten" },
    ],
    findings: [
      { code: "NO_ENTRY_FILE", kind: "warning" },
    ],
  },
  {
    name: "follows the client into a function it is passed to",
    fixture: "gate-call-sites/client-passed-as-argument",
    callSites: [
      { file: "src/summarize.ts", line: 4, column: 26, callee: "client.responses.create", state: "rewritten" },
    ],
    findings: [],
  },
  {
    name: "gates the SDK calls inside a shared class with no chat-like method, and wraps the handler that calls it",
    fixture: "gate-call-sites/wrapper-without-chat-method",
    callSites: [
      { file: "src/summarizer.ts", line: 7, column: 28, callee: "this.openai.responses.create", state: "rewritten" },
    ],
    findings: [],
  },
  {
    name: "leaves the calls of a service built per request with the caller's key, by design, and changes nothing",
    fixture: "gate-call-sites/per-request-service-unchanged",
    callSites: [
      { file: "src/server.ts", line: 13, column: 28, callee: "this.openai.responses.create", state: "left", reason: "PER_REQUEST_CREDENTIAL" },
    ],
    findings: [
      { code: "PER_REQUEST_CLIENT", kind: "info", file: "src/server.ts", line: 9 },
      { code: "PER_REQUEST_CLIENT", kind: "info", file: "src/server.ts", line: 22 },
    ],
  },
  {
    name: "gates a wrapper that chains its calls, and reports the chain",
    fixture: "gate-call-sites/promise-chain-wrapper",
    callSites: [
      { file: "src/server.ts", line: 9, column: 23, callee: "llmClient.generateResponse", state: "rewritten", key: "userId" },
    ],
    findings: [
      { code: "SERIALISED_WRAPPER", kind: "info", file: "src/llm-client.ts", line: 13 },
    ],
  },
  {
    name: "gates a wrapper that runs its calls under a Mutex, and reports the mutex",
    fixture: "gate-call-sites/mutex-wrapper",
    callSites: [
      { file: "server.js", line: 8, column: 23, callee: "chatClient.generateResponse", state: "rewritten", key: "req.ip" },
    ],
    findings: [
      { code: "SERIALISED_WRAPPER", kind: "info", file: "llm.js", line: 6 },
    ],
  },
  {
    name: "takes a PQueue({ concurrency: 1 }) off the new path of an SDK call",
    fixture: "gate-call-sites/pqueue-sdk-call",
    callSites: [
      { file: "server.js", line: 18, column: 44, callee: "openai.chat.completions.create", state: "rewritten", key: "userId" },
      { file: "server.js", line: 24, column: 39, callee: "openai.embeddings.create", state: "rewritten", key: "userId" },
      { file: "server.js", line: 31, column: 18, callee: "openai.responses.create", state: "rewritten", key: "userId" },
    ],
    findings: [
      { code: "SERIALISED_CALL", kind: "info", file: "server.js", line: 18 },
      { code: "SERIALISED_CALL", kind: "info", file: "server.js", line: 24 },
      { code: "SERIALISED_CALL", kind: "info", file: "server.js", line: 31 },
    ],
  },
  {
    name: "keeps a rate-limiting queue around the gated call and reports it",
    fixture: "gate-call-sites/rate-limit-queue-kept",
    callSites: [
      { file: "server.js", line: 14, column: 44, callee: "openai.chat.completions.create", state: "rewritten", key: "userId" },
    ],
    findings: [
      { code: "RATE_LIMIT_QUEUE", kind: "warning", file: "server.js", line: 7 },
    ],
  },
  {
    name: "gates an execSync(ollama) wrapper and reports the shell string's command injection",
    fixture: "gate-call-sites/execsync-ollama-wrapper",
    callSites: [
      { file: "src/server.ts", line: 10, column: 17, callee: "llm.generateResponse", state: "rewritten", key: "userId" },
    ],
    findings: [
      { code: "COMMAND_INJECTION", kind: "warning", file: "src/ollama-client.ts", line: 6 },
      { code: "BLOCKING_CHILD_PROCESS", kind: "info", file: "src/ollama-client.ts", line: 6 },
    ],
  },
  {
    name: "gates a spawnSync(curl) wrapper in CommonJS, keyed by the client address",
    fixture: "gate-call-sites/spawnsync-curl-wrapper",
    callSites: [
      { file: "server.js", line: 8, column: 17, callee: "llm.generateResponse", state: "rewritten", key: "req.ip" },
    ],
    findings: [
      { code: "BLOCKING_CHILD_PROCESS", kind: "info", file: "llm.js", line: 6 },
    ],
  },
  {
    name: "gates embeddings, audio and streams (stream: true, .stream() helpers)",
    fixture: "gate-call-sites/sdk-v4-endpoints",
    callSites: [
      { file: "src/server.ts", line: 10, column: 27, callee: "openai.embeddings.create", state: "rewritten", key: "userId" },
      { file: "src/server.ts", line: 17, column: 31, callee: "openai.audio.transcriptions.create", state: "rewritten", key: "userId" },
      { file: "src/server.ts", line: 23, column: 24, callee: "openai.chat.completions.create", state: "rewritten", key: "userId" },
      { file: "src/server.ts", line: 30, column: 18, callee: "openai.chat.completions.stream", state: "rewritten", key: "userId" },
      { file: "src/server.ts", line: 37, column: 18, callee: "openai.responses.stream", state: "rewritten", key: "userId" },
    ],
    findings: [],
  },
  {
    name: "gates a v3 createChatCompletion and leaves its axios stream",
    fixture: "gate-call-sites/sdk-v3-openaiapi",
    callSites: [
      { file: "server.js", line: 11, column: 28, callee: "openai.createChatCompletion", state: "rewritten", key: "userId" },
      { file: "server.js", line: 17, column: 28, callee: "openai.createChatCompletion", state: "left", reason: "STREAMING" },
    ],
    findings: [],
  },
  {
    name: "gates an AzureOpenAI client",
    fixture: "gate-call-sites/azure-openai-client",
    callSites: [
      { file: "src/server.ts", line: 10, column: 28, callee: "azure.chat.completions.create", state: "rewritten", key: "userId" },
    ],
    findings: [],
  },
  {
    name: "names a blocking ollama process run right in a handler, and the shell string built from the request",
    fixture: "gate-call-sites/shell-string-in-handler-unchanged",
    callSites: [
      { file: "server.js", line: 8, column: 17, callee: "execSync", state: "left", reason: "BLOCKING_CHILD_PROCESS_CALL" },
    ],
    findings: [{ code: "COMMAND_INJECTION", kind: "warning", file: "server.js", line: 8 }],
  },
] as const;

describe("call-site reports", () => {
  it.each(cases)("$name", async ({ fixture, callSites, findings }) => {
    const { outcome } = await migrateTree(readTree(join(FIXTURES, fixture, "input")), gate);
    expect(outcome.callSites.map(({ message: _message, ...site }) => site)).toEqual(callSites);
    for (const site of outcome.callSites.filter((s) => s.state === "left")) {
      expect(reasonTable.find((r) => r.code === site.reason)?.message).toBe(site.message);
    }
    expect(outcome.findings.map(({ message: _message, ...finding }) => finding)).toEqual(findings);
    for (const finding of outcome.findings) expect(reasonTable.find((r) => r.code === finding.code)?.message).toBe(finding.message);
  });

  it("reports every gated call of a migrated server as already migrated and changes nothing", async () => {
    const migrated = expectedTree(join(FIXTURES, "servers/express-ts"));
    const { outcome, sources, runtimeDir } = await migrateTree(migrated);
    for (const [path, text] of sources) expect(text, path).toBe(migrated.get(path));
    expect(outcome.alreadyMigrated).toBe(true);
    // The earlier run's runtime folder, so that the engine can put back files deleted from it.
    expect(runtimeDir).toBe("src/llm-runtime");
    expect(outcome.callSites).toEqual([
      { file: "src/server.ts", line: 32, column: 7, callee: "llmClient.generateResponse", state: "already-migrated", key: "userId" },
    ]);
  });

  it("describes the whole migration of the example server", async () => {
    const { outcome, runtimeDir } = await migrateTree(readTree(join(FIXTURES, "servers/express-ts/input")));
    expect(outcome).toMatchObject({
      entryFile: "src/server.ts",
      client: { file: "src/server.ts", line: 4, name: "llmClient", kind: "wrapper", constructedWith: "LlmClient" },
      framework: "express",
      runtimeFlavour: "ts",
      alreadyMigrated: false,
    });
    expect(runtimeDir).toBe("src/llm-runtime");
  });

  it("names the runtime flavour of a CommonJS server", async () => {
    const { outcome, runtimeDir } = await migrateTree(readTree(join(FIXTURES, "servers/express-cjs/input")));
    expect(outcome).toMatchObject({ entryFile: "server.js", runtimeFlavour: "cjs" });
    expect(runtimeDir).toBe("llm-runtime");
  });

  it("gives every reason a stable code and a message", () => {
    for (const reason of reasonTable) expect(reason).toMatchObject({ code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String), fix: expect.any(String) });
  });
});
