import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BadInputError, planMigration } from "../../src/engine/index.js";
import { migratePythonTree, PYTHON_FIXTURES, readTree } from "./helpers.js";

const reportOf = async (caseName: string) => (await migratePythonTree(readTree(join(PYTHON_FIXTURES, "gate-call-sites", caseName, "input")), ["gate-call-sites"])).outcome;

describe("Python call-site reports", () => {
  it.each([
    ["global-startup-wrapper", [
      { file: "main.py", line: 20, callee: "llm_client.generate_response", state: "rewritten", key: "user_id" },
      { file: "main.py", line: 25, callee: "llm_client.generate_response", state: "rewritten", key: "None" },
    ]],
    ["lifespan-app-state", [
      { file: "main.py", line: 20, callee: "request.app.state.llm_client.generate_response", state: "rewritten", key: "request.client.host" },
      { file: "main.py", line: 27, callee: "client.generate_response", state: "rewritten", key: "x_user_id" },
    ]],
    ["sync-sdk-call", [
      { file: "server.py", line: 26, callee: "client.chat.completions.create", state: "rewritten", key: "current_user.id" },
      { file: "server.py", line: 35, callee: "client.chat.completions.create", state: "left", reason: "PY_STREAMING" },
    ]],
    ["sync-def-route-left", [
      { file: "main.py", line: 11, callee: "llm_client.generate_response", state: "left", reason: "PY_SYNC_ROUTE" },
      { file: "main.py", line: 15, callee: "llm_client.generate_response", state: "left", reason: "SYNC_CALLER" },
    ]],
    ["thread-lock-left", [{ file: "main.py", line: 22, callee: "llm_model.generate_response", state: "left", reason: "PY_THREAD_LOCK" }]],
  ])("%s", async (caseName, expected) => {
    const outcome = await reportOf(caseName);
    expect(outcome.callSites.map(({ column: _c, message: _m, ...site }) => site)).toEqual(expected);
  });

  it("reports a client built per request and leaves it", async () => {
    const outcome = await reportOf("per-request-client-unchanged");
    expect(outcome.callSites).toEqual([]);
    expect(outcome.findings.map((f) => [f.code, f.file, f.line])).toEqual([
      ["PER_REQUEST_CLIENT", "main.py", 9],
      ["NO_SHARED_CLIENT", undefined, undefined],
    ]);
  });
});

describe("the engine on Python targets", () => {
  it("refuses, naming the file, a module that does not parse and must change", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llm-migrate-py-bad-"));
    try {
      writeFileSync(join(dir, "main.py"), "from fastapi import FastAPI\napp = FastAPI()\nllm_client = LlmClient()\n\n@app.post('/chat')\nasync def chat(m):\n    return llm_client.generate_response(m\n");
      const planned = planMigration(dir, { poolSize: 10, canaryPercent: 100 });
      await expect(planned).rejects.toBeInstanceOf(BadInputError);
      await expect(planned).rejects.toMatchObject({ path: "main.py", message: expect.stringMatching(/^syntax error at \d+:\d+: /) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
