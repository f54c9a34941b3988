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
});
