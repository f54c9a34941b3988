import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { reasonTable } from "../../transforms/index.js";
import { expectedTree, FIXTURES, migrateTree, readTree } from "./helpers.js";

// The report of each fixture case is checked beside its output, from <case>/report.json (see
// fixture-suites.ts). What is left here is the report of whole servers.

describe("call-site reports", () => {
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
