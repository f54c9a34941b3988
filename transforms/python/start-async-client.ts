import { leadingImports } from "../../src/languages/python/imports.js";
import { children, TextEdits } from "../../src/languages/python/parse.js";
import { hasLlmCalls, RUNTIME_MODULE, type PythonTransform } from "./context.js";

export const startAsyncClient: PythonTransform = {
  name: "start-async-client",
  description:
    "Creates the one process-wide async client in the app module, right after its imports, with the pool size and canary share as defaults.",
  run(context) {
    const analysis = context.analyse();
    const { app } = analysis;
    if (!app || !hasLlmCalls(analysis)) return;
    const file = app.file;
    const started = children(file.root).some((s) => s.type === "expression_statement" && /^get_async_llm_client\(/.test(s.text));
    if (started) return;
    const { poolSize, canaryPercent } = context.input.settings;
    const statement = [
      "# llm-migrate: one process-wide, semaphore-gated LLM client. These are defaults:",
      `# LLM_POOL_SIZE and LLM_CANARY_PERCENT override them (see ${RUNTIME_MODULE}.py).`,
      `get_async_llm_client(pool_size=${poolSize}, canary_percent=${canaryPercent})`,
    ].join("\n");
    const edits = new TextEdits();
    const last = leadingImports(file).at(-1);
    if (last) edits.insert(file, last.endIndex, `\n\n${statement}`);
    else edits.insert(file, app.statement.startIndex, `${statement}\n\n`);
    edits.apply();
    context.needsImports(file, { runtime: ["get_async_llm_client"] });
  },
};
