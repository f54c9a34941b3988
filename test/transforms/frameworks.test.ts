// The framework adapters are the only place that knows a framework: every adapter file is
// registered, and the runtime answers errors for exactly the frameworks the adapters name.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { responders } from "../../runtime/responders.js";
import { relevanceTest } from "../../src/engine/relevance.js";
import { frameworks } from "../../transforms/frameworks/index.js";
import { pythonFrameworks } from "../../transforms/frameworks/python-frameworks.js";
import { REPO } from "./helpers.js";

describe("framework adapters", () => {
  it.each([
    ["typescript", "frameworks/index.ts", frameworks],
    ["python", "frameworks/python-frameworks.ts", pythonFrameworks],
  ] as const)("%s: every adapter file is registered in %s, or it would be silently unused", async (language, _registry, registry) => {
    const dir = join(REPO, "transforms", "frameworks");
    const exported = [];
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".ts"))) {
      const module = (await import(join(dir, name))) as Record<string, unknown>;
      exported.push(...Object.values(module).filter((value) => (value as { language?: string } | null)?.language === language));
    }
    expect(exported.length).toBeGreaterThan(0);
    for (const adapter of exported) expect(registry as readonly unknown[]).toContain(adapter);
  });

  it("name the runtime's error responders, and the runtime has one for each and no other", () => {
    const named = frameworks.flatMap((f) => f.errorResponder ?? []);
    expect(new Set(named)).toEqual(new Set(responders.map((r) => r.name)));
    for (const f of frameworks) if (f.errorWrapper) expect(f.errorResponder, f.name).toBeDefined();
  });

  it("give the engine's relevance filter their modules", () => {
    const relevant = relevanceTest([]);
    for (const f of frameworks) for (const module of f.modules) expect(relevant(`import app from "${module}";`), module).toBe(true);
    for (const f of pythonFrameworks) for (const module of f.modules) expect(relevant(`from ${module} import web`), module).toBe(true);
  });
});
