import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BadInputError, planMigration } from "../../src/engine/index.js";
import { migratePythonTree, PYTHON_FIXTURES, readTree, ROOT } from "./helpers.js";

const reportOf = async (caseName: string) => (await migratePythonTree(readTree(join(PYTHON_FIXTURES, "gate-call-sites", caseName, "input")), ["gate-call-sites"])).outcome;

describe("Python call-site reports", () => {
  it.each([
    ["global-startup-wrapper", [
      { file: "main.py", line: 20, callee: "llm_client.generate_response", state: "rewritten", key: "user_id" },
      // no user id and no Request: every caller shares one canary bucket, so the key is reported absent
      { file: "main.py", line: 25, callee: "llm_client.generate_response", state: "rewritten" },
    ]],
    ["lifespan-app-state", [
      { file: "main.py", line: 20, callee: "request.app.state.llm_client.generate_response", state: "rewritten", key: "request.client.host if request.client else None" },
      { file: "main.py", line: 27, callee: "client.generate_response", state: "rewritten", key: "x_user_id" },
    ]],
    ["sync-sdk-call", [
      { file: "server.py", line: 26, callee: "client.chat.completions.create", state: "rewritten", key: "current_user.id" },
      { file: "server.py", line: 35, callee: "client.chat.completions.create", state: "left", reason: "PY_STREAMING" },
    ]],
    // summarise() is a wrapper: its call is gated, and the wrapper runs as written inside it
    ["sync-def-route-left", [
      { file: "main.py", line: 11, callee: "llm_client.generate_response", state: "left", reason: "PY_SYNC_ROUTE" },
      { file: "main.py", line: 20, callee: "summarise", state: "rewritten" },
    ]],
    ["thread-lock-left", [{ file: "main.py", line: 22, callee: "llm_model.generate_response", state: "left", reason: "PY_THREAD_LOCK" }]],
    // the Slack webhook, the analytics event, the sync helper and the post to the project's own generator are not reported
    ["sync-http-llm-call", [
      { file: "main.py", line: 31, callee: "requests.post", state: "rewritten", key: "question.user_id" },
      { file: "main.py", line: 40, callee: "http.post", state: "rewritten", key: "request.client.host if request.client else None" },
      { file: "main.py", line: 53, callee: "httpx.post", state: "rewritten", key: "http_request.client.host if http_request.client else None" },
      { file: "main.py", line: 58, callee: "httpx.post", state: "rewritten" },
      { file: "main.py", line: 64, callee: "requests.post", state: "left", reason: "PY_STREAMING" },
    ]],
    ["local-model-call", [
      { file: "main.py", line: 19, callee: "llm", state: "rewritten", key: "prompt.user_id" },
      { file: "main.py", line: 25, callee: "llm.create_chat_completion", state: "rewritten", key: "prompt.user_id" },
      { file: "main.py", line: 32, callee: "llm.create_chat_completion", state: "left", reason: "PY_THREAD_LOCK" },
      { file: "main.py", line: 38, callee: "llm.create_chat_completion", state: "left", reason: "PY_STREAMING" },
    ]],
    // built per request: from the server's key (env, settings) gated; from the caller's key left by design
    ["per-request-server-key", [
      { file: "main.py", line: 28, callee: "client.chat.completions.create", state: "rewritten", key: "user_id" },
      { file: "main.py", line: 35, callee: "llm.chat.completions.create", state: "rewritten" },
      { file: "main.py", line: 43, callee: "client.chat.completions.create", state: "left", reason: "PER_REQUEST_CREDENTIAL" },
    ]],
    ["runtime-name-taken", [{ file: "main.py", line: 11, callee: "bot.tell", state: "left", reason: "PY_RUNTIME_NAME_TAKEN" }]],
    // the worker is its own service (own requirements.txt): the runtime beside the API is out of its reach
    ["two-services", [
      { file: "api/main.py", line: 10, callee: "client.chat.completions.create", state: "rewritten", key: "user_id" },
      { file: "worker/worker.py", line: 10, callee: "client.chat.completions.create", state: "left", reason: "PY_OTHER_SERVICE" },
    ]],
    ["transformers-pipeline-call", [
      { file: "main.py", line: 13, callee: "generator", state: "rewritten", key: "request.client.host if request.client else None" },
    ]],
  ])("%s", async (caseName, expected) => {
    const outcome = await reportOf(caseName);
    expect(outcome.callSites.map(({ column: _c, message: _m, ...site }) => site)).toEqual(expected);
  });

  it("leaves a call on the caller's own key by design, and says where its client is built", async () => {
    const outcome = await reportOf("per-request-client-unchanged");
    expect(outcome.callSites.map(({ file, line, state, reason }) => ({ file, line, state, reason }))).toEqual([
      { file: "main.py", line: 10, state: "left", reason: "PER_REQUEST_CREDENTIAL" },
    ]);
    expect(outcome.findings.map((f) => [f.code, f.file, f.line])).toEqual([["PER_REQUEST_CLIENT", "main.py", 9]]);
  });
});

describe("a whole migration", () => {
  it("vendors the runtime beside the service whose calls it gates, and leaves the app of another service alone", async () => {
    const input = readTree(join(PYTHON_FIXTURES, "gate-call-sites", "bot-service-calls", "input"));
    const run = await migratePythonTree(input);
    expect(run.outcome.runtimeDir).toBe(`${ROOT}/bot`);
    expect(run.sources.get("api/app.py")).toBe(input.get("api/app.py"));
    expect(run.sources.get("bot/bot.py")).toContain("from llm_api import get_async_llm_client, use_new_llm_path\n");
    expect(run.outcome.callSites.map((site) => [site.file, site.state])).toEqual([["bot/bot.py", "rewritten"]]);
    // No web app start-up in the bot's service: the client starts where the gated calls' module is
    // imported, after its imports, or use_new_llm_path would send every call to the legacy path.
    expect(run.sources.get("bot/bot.py")).toContain(
      [
        "import requests",
        "from llm_api import get_async_llm_client, use_new_llm_path",
        "",
        "# llm-migrate: one process-wide, semaphore-gated LLM client. These are defaults:",
        "# LLM_POOL_SIZE and LLM_CANARY_PERCENT override them (see llm_api.py).",
        "get_async_llm_client(pool_size=10, canary_percent=100)",
        "",
        'OLLAMA_URL = os.getenv("OLLAMA_URL", "http://ollama:11434")',
      ].join("\n"),
    );
    const second = await migratePythonTree(run.sources);
    expect(second.sources.get("bot/bot.py")).toBe(run.sources.get("bot/bot.py"));
  });

  it("gates blocking HTTP requests to an LLM API in an app with no shared client, once", async () => {
    const input = readTree(join(PYTHON_FIXTURES, "gate-call-sites", "sync-http-llm-call", "input"));
    const first = await migratePythonTree(input);
    expect(first.outcome.client).toBeUndefined();
    // /summarise has no user key in scope: the middleware sets one per request (the client address without x-user-id)
    expect(first.outcome.findings.map((f) => f.code)).toEqual(["CANARY_KEY_CLIENT_ADDRESS", "METRICS_ROUTE_ADDED"]);
    expect(first.outcome.runtimeDir).toBe(ROOT);
    const main = first.sources.get("main.py")!;
    expect(main.startsWith("import asyncio\nimport os\nfrom typing import Optional\n\nimport httpx\n")).toBe(true);
    expect(main).toContain("get_async_llm_client(pool_size=10, canary_percent=100)");
    expect(main).toContain('@app.get("/metrics/llm")');
    expect(main).toContain("@app.exception_handler(LlmError)");
    expect(main).toContain('set_llm_request_key(request.headers.get("x-user-id")');

    const second = await migratePythonTree(first.sources);
    expect(second.sources.get("main.py")).toBe(main);
    expect(second.outcome.alreadyMigrated).toBe(true);
    expect(second.outcome.callSites.map((site) => [site.state, site.callee, site.key])).toEqual([
      ["already-migrated", "requests.post", "question.user_id"],
      ["already-migrated", "http.post", "request.client.host if request.client else None"],
      ["already-migrated", "httpx.post", "http_request.client.host if http_request.client else None"],
      ["already-migrated", "httpx.post", undefined],
      ["left", "requests.post", undefined],
    ]);
  });
});

describe("the engine on Python targets", () => {
  it("refuses, naming the file, a module that does not parse and must change", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llm-migrate-py-bad-"));
    try {
      writeFileSync(join(dir, "main.py"), "from fastapi import FastAPI\napp = FastAPI()\nllm_client = LlmClient()\n\n@app.post('/chat')\nasync def chat(m):\n    return llm_client.generate_response(m)\n\ndef broken(:\n    pass\n");
      const planned = planMigration(dir, { poolSize: 10, canaryPercent: 100 });
      await expect(planned).rejects.toBeInstanceOf(BadInputError);
      await expect(planned).rejects.toMatchObject({ path: "main.py", message: expect.stringMatching(/^syntax error at \d+:\d+: /) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
