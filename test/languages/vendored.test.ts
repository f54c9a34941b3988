// Vendored and generated code is never scanned or edited, even when it is committed.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { planMigration } from "../../src/engine/plan.js";
import { commitAll } from "../engine/helpers.js";
import { FIXTURES } from "../transforms/helpers.js";

const scratch = mkdtempSync(join(tmpdir(), "llm-migrate-vendored-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it("leaves node_modules, dist, build and a committed .venv alone, even with LLM calls in them", async () => {
  const dir = join(scratch, "server");
  cpSync(join(FIXTURES, "gate-call-sites", "sdk-groq", "input"), dir, { recursive: true });
  const call = 'import Groq from "groq-sdk";\nconst groq = new Groq();\nexport const ask = async (q) => groq.chat.completions.create({ model: "m", messages: [{ role: "user", content: q }] });\n';
  for (const folder of ["node_modules/helper", "dist", "build"]) {
    mkdirSync(join(dir, folder), { recursive: true });
    writeFileSync(join(dir, folder, "index.js"), call);
  }
  mkdirSync(join(dir, ".venv/lib"), { recursive: true });
  writeFileSync(join(dir, ".venv/lib/client.py"), "import openai\nclient = openai.OpenAI()\nclient.chat.completions.create(model='m', messages=[])\n");
  commitAll(dir);
  const plan = await planMigration(dir, { poolSize: 10, canaryPercent: 100 }, { format: false });
  expect(plan.outcome.callSites.map((site) => site.file)).toEqual(["server.js"]);
  expect(plan.changes.map((change) => change.path).filter((path) => /^(node_modules|dist|build|\.venv)\//.test(path))).toEqual([]);
});
