// Placement: code the migration adds goes where the original needs it, and the report says where.
// The whole outputs are in the fixtures (test/transforms/fixtures.test.ts); these check what they show.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectedTree, FIXTURES, migrateTree, readTree } from "../transforms/helpers.js";

const output = (fixture: string, path: string) => expectedTree(join(FIXTURES, fixture)).get(path)!;

describe("placement", () => {
  // Seen: the client started before dotenv.config(), so LLM_POOL_SIZE in .env was ignored.
  it("starts the client after dotenv.config(), and a trailing comment stays on its statement", () => {
    const text = output("start-async-client/dotenv-after-app", "src/server.js");
    expect(text).toContain("dotenv.config(); // LLM_POOL_SIZE and OPENAI_API_KEY come from .env\n");
    expect(text.indexOf("getAsyncLlmClient({")).toBeGreaterThan(text.indexOf("dotenv.config()"));
  });

  // Seen: Koa's metrics middleware after a catch-all middleware, which answered GET /metrics/llm.
  it("puts Koa's metrics middleware before a catch-all made by a factory", () => {
    const text = output("frameworks/koa/catch-all-factory", "src/server.ts");
    expect(text.indexOf('ctx.path !== "/metrics/llm"')).toBeLessThan(text.indexOf("app.use(spaFallback("));
  });

  // Seen: `@Module({ controllers: [LlmMetricsController],` crammed onto the decorator's first line.
  it("lays out an inserted decorator key like its neighbours", () => {
    expect(output("frameworks/nest/global-prefix", "src/app.module.ts")).toContain(
      "@Module({\n  controllers: [LlmMetricsController],\n  imports: [ChatModule],\n",
    );
  });

  // Seen: one project with both `./llm-runtime/index.js` and `./llm-runtime`.
  it("imports the runtime in one specifier style across the project", () => {
    const fixture = "gate-call-sites/one-import-style-cjs";
    expect(output(fixture, "server.js")).toContain('require("./llm-runtime")');
    expect(output(fixture, "summarize.js")).toContain('require("./llm-runtime")');
  });

  // Seen: under Nest's setGlobalPrefix("api") the route is /api/metrics/llm, and nothing said so.
  it("reports the metrics route's real path under Nest's global prefix", async () => {
    const { outcome } = await migrateTree(readTree(join(FIXTURES, "frameworks/nest/global-prefix/input")));
    expect(outcome.findings).toContainEqual(expect.objectContaining({ code: "METRICS_ROUTE_ADDED", message: "GET /api/metrics/llm added on AppModule" }));
  });

  const metricsFinding = async (tree: Map<string, string>) =>
    (await migrateTree(tree)).outcome.findings.find((f) => f.code === "METRICS_ROUTE_ADDED")?.message;

  // A route in a plugin that app.register(plugin, { prefix }) mounts answers under that prefix.
  it("reports the metrics route's real path in a Fastify plugin registered with a prefix", async () => {
    expect(await metricsFinding(readTree(join(FIXTURES, "frameworks/fastify/prefixed-plugin/input")))).toBe("GET /api/v1/metrics/llm added on fastify");
  });

  // Express and FastAPI: the calls are on a router mounted under /api, the route goes on the app itself.
  it("puts the route on the app, not on a router mounted under a prefix, and says so (Express)", async () => {
    expect(await metricsFinding(readTree(join(FIXTURES, "servers/express-cjs/input")))).toBe("GET /metrics/llm added on app");
  });

  it("puts the route on the app, not on a router included with a prefix, and says so (FastAPI)", async () => {
    const main = [
      "from fastapi import APIRouter, FastAPI",
      "from openai import OpenAI",
      "",
      "client = OpenAI()",
      'router = APIRouter(prefix="/chat")',
      "",
      "",
      '@router.post("/ask")',
      "async def ask(payload: dict, user_id: str):",
      '    completion = client.chat.completions.create(model="gpt-4o-mini", messages=payload["messages"])',
      '    return {"reply": completion.choices[0].message.content}',
      "",
      "",
      "app = FastAPI()",
      'app.include_router(router, prefix="/api")',
      "",
    ].join("\n");
    expect(await metricsFinding(new Map([["main.py", main]]))).toBe("GET /metrics/llm added on app");
  });
});
