import { leadingImports } from "../../src/languages/python/imports.js";
import type { PythonSourceFile } from "../../src/languages/python/parse.js";
import { children, TextEdits } from "../../src/languages/python/parse.js";
import { hasLlmCalls, RUNTIME_MODULE, type PythonTransform } from "./context.js";

export const startAsyncClient: PythonTransform = {
  name: "start-async-client",
  description:
    "Creates the one process-wide async client right after the imports, with the pool size and canary share as defaults: in the app module, or, in a service with no web app (a bot, a worker), in each module with gated calls.",
  run(context) {
    const analysis = context.analyse();
    const { app } = analysis;
    if (!hasLlmCalls(analysis)) return;
    // Without an app start-up nothing else would create the client, and use_new_llm_path would send
    // every call to the legacy path. A module's top level runs before any of its calls, whichever
    // process imports it; the first start's settings win, so one start per module is harmless.
    const homes: PythonSourceFile[] = app
      ? [app.file]
      : [...context.imports].filter(([, needs]) => needs.runtime.has("use_new_llm_path")).map(([file]) => file);
    const { poolSize, canaryPercent } = context.input.settings;
    const statement = [
      "# llm-migrate: one process-wide, semaphore-gated LLM client. These are defaults:",
      `# LLM_POOL_SIZE and LLM_CANARY_PERCENT override them (see ${RUNTIME_MODULE}.py).`,
      `get_async_llm_client(pool_size=${poolSize}, canary_percent=${canaryPercent})`,
    ].join("\n");
    const edits = new TextEdits();
    for (const file of homes) {
      const started = children(file.root).some((s) => s.type === "expression_statement" && /^get_async_llm_client\(/.test(s.text));
      if (started) continue;
      const last = leadingImports(file).at(-1);
      if (last) edits.insert(file, last.endIndex, `\n\n${statement}`);
      else edits.insert(file, app && file === app.file ? app.statement.startIndex : firstStatement(file), `${statement}\n\n`);
      context.needsImports(file, { runtime: ["get_async_llm_client"] });
    }
    edits.apply();
  },
};

/** Where a module with no imports starts: its first statement that is not a comment or docstring. */
function firstStatement(file: PythonSourceFile): number {
  const first = children(file.root).find((s) => s.type !== "comment" && !(s.type === "expression_statement" && children(s)[0]?.type === "string"));
  return first?.startIndex ?? 0;
}
