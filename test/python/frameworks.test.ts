import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pythonFrameworks } from "../../transforms/frameworks/python-frameworks.js";
import { REPO } from "./helpers.js";

describe("Python framework adapters", () => {
  it("are all registered: an adapter file left out of python-frameworks.ts would be silently unused", async () => {
    const dir = join(REPO, "transforms", "frameworks");
    const exported = [];
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".ts"))) {
      const module = (await import(join(dir, name))) as Record<string, unknown>;
      exported.push(...Object.values(module).filter((value) => (value as { language?: string } | null)?.language === "python"));
    }
    expect(exported.length).toBeGreaterThan(0);
    for (const adapter of exported) expect(pythonFrameworks).toContain(adapter);
  });
});
