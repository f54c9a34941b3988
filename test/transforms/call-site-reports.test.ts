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
    callSites: [{ file: "src/server.ts", line: 11, column: 17, callee: "llm.generateResponse", state: "rewritten", key: "userId" }],
  },
  {
    name: "rewrites an awaited SDK call in CommonJS, keyed by req.user.id",
    fixture: "gate-call-sites/async-sdk-cjs",
    callSites: [{ file: "server.js", line: 10, column: 28, callee: "openai.chat.completions.create", state: "rewritten", key: "req.user.id" }],
  },
  {
    name: "follows an exported client into a route module, keyed by the x-user-id header",
    fixture: "gate-call-sites/exported-client-esm",
    callSites: [{ file: "routes/summarize.js", line: 7, column: 26, callee: "openai.responses.create", state: "rewritten", key: 'req.headers["x-user-id"]' }],
  },
  {
    name: "gates a client assigned in the listen callback, keyed by the client address",
    fixture: "gate-call-sites/listen-callback-client",
    callSites: [{ file: "server.ts", line: 14, column: 28, callee: "client.chat.completions.create", state: "rewritten", key: "req.ip" }],
  },
  {
    name: "gates calls through a lazy getter, keyed by currentUser.id",
    fixture: "gate-call-sites/lazy-getter-client",
    callSites: [{ file: "server.ts", line: 15, column: 28, callee: "getClient().chat.completions.create", state: "rewritten", key: "currentUser.id" }],
  },
  {
    name: "gates a wrapper method that already returns a promise, keyed by user.id",
    fixture: "gate-call-sites/async-wrapper-method",
    callSites: [{ file: "src/server.ts", line: 14, column: 23, callee: "chat.generateResponse", state: "rewritten", key: "user.id" }],
  },
  {
    name: "leaves a call in a constructor",
    fixture: "gate-call-sites/constructor-call-left",
    callSites: [{ file: "src/server.ts", line: 10, column: 17, callee: "llm.generateResponse", state: "left", reason: "CONSTRUCTOR" }],
  },
  {
    name: "leaves a call in a sync helper that others call",
    fixture: "gate-call-sites/sync-helper-left",
    callSites: [{ file: "src/server.ts", line: 7, column: 10, callee: "llm.generateResponse", state: "left", reason: "SYNC_CALLER" }],
  },
  {
    name: "reports a per-request client and changes nothing",
    fixture: "gate-call-sites/per-request-client-unchanged",
    callSites: [],
    findings: [{ code: "PER_REQUEST_CLIENT", file: "server.ts", line: 9 }],
  },
  {
    name: "does not take a route handler called openai for a client",
    fixture: "gate-call-sites/handler-named-openai-unchanged",
    callSites: [],
    findings: [{ code: "NO_SHARED_CLIENT" }],
  },
] as const;

describe("call-site reports", () => {
  it.each(cases)("$name", ({ fixture, callSites, ...rest }) => {
    const { outcome } = migrateTree(readTree(join(FIXTURES, fixture, "input")), gate);
    expect(outcome.callSites.map(({ message: _message, ...site }) => site)).toEqual(callSites);
    for (const site of outcome.callSites.filter((s) => s.state === "left")) {
      expect(reasonTable.find((r) => r.code === site.reason)?.message).toBe(site.message);
    }
    const findings = "findings" in rest ? rest.findings : [];
    for (const finding of findings) expect(outcome.findings).toContainEqual(expect.objectContaining(finding));
  });

  it("reports every gated call of a migrated server as already migrated and changes nothing", () => {
    const migrated = expectedTree(join(FIXTURES, "servers/express-ts"));
    const { outcome, sources } = migrateTree(migrated);
    for (const [path, text] of sources) expect(text, path).toBe(migrated.get(path));
    expect(outcome.alreadyMigrated).toBe(true);
    expect(outcome.runtimeDir).toBeUndefined();
    expect(outcome.callSites).toEqual([
      { file: "src/server.ts", line: 32, column: 7, callee: "llmClient.generateResponse", state: "already-migrated", key: "userId" },
    ]);
  });

  it("describes the whole migration of the example server", () => {
    const { outcome } = migrateTree(readTree(join(FIXTURES, "servers/express-ts/input")));
    expect(outcome).toMatchObject({
      entryFile: "src/server.ts",
      client: { file: "src/server.ts", line: 4, name: "llmClient", kind: "wrapper", constructedWith: "LlmClient" },
      framework: "express",
      runtimeDir: "/target/src/llm-runtime",
      runtimeFlavour: "ts",
      alreadyMigrated: false,
    });
  });

  it("names the runtime flavour of a CommonJS server", () => {
    const { outcome } = migrateTree(readTree(join(FIXTURES, "servers/express-cjs/input")));
    expect(outcome).toMatchObject({ entryFile: "server.js", runtimeFlavour: "cjs", runtimeDir: "/target/llm-runtime" });
  });

  it("gives every reason a stable code and a message", () => {
    for (const reason of reasonTable) expect(reason).toMatchObject({ code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String), fix: expect.any(String) });
  });
});
