// Vendored Python is never scanned or edited, even when committed: `.venv`, `site-packages`, and a
// virtualenv under any other name (found by its pyvenv.cfg).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect, it } from "vitest";
import { planMigration } from "../../src/engine/index.js";

const route = (path: string) => `from fastapi import FastAPI
from openai import OpenAI

app = FastAPI()
client = OpenAI()


@app.post("${path}")
async def chat(payload: dict):
    return client.chat.completions.create(model="gpt-4o-mini", messages=payload["messages"])
`;

it("gates the app's own call and nothing under .venv, site-packages or a virtualenv named otherwise", async () => {
  const dir = mkdtempSync(join(tmpdir(), "llm-migrate-py-vendored-"));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  try {
    write("main.py", route("/chat"));
    write(".venv/lib/python3.11/site-packages/demo/app.py", route("/venv"));
    write("vendor/site-packages/demo/app.py", route("/site-packages"));
    write("py311/pyvenv.cfg", "home = /usr/bin\n");
    write("py311/lib/python3.11/demo/app.py", route("/py311"));
    const plan = await planMigration(dir, { poolSize: 10, canaryPercent: 100 }, { format: false });
    expect(plan.outcome.callSites.map((site) => [site.file, site.state])).toEqual([["main.py", "rewritten"]]);
    expect(plan.changes.some((change) => change.path.endsWith("/app.py"))).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
