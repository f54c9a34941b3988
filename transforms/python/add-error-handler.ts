import { TextEdits } from "../../src/languages/python/parse.js";
import { hasLlmCalls, indentUnit, type PythonTransform } from "./context.js";

export const addErrorHandler: PythonTransform = {
  name: "add-error-handler",
  description:
    "Adds an exception handler on the app that answers the runtime's LlmError (full queue, deadline, shedding) with 503 and Retry-After.",
  run(context) {
    const analysis = context.analyse();
    const { app, framework } = analysis;
    if (!app || !framework || !hasLlmCalls(analysis) || framework.hasErrorHandler(analysis.files)) return;
    const at = framework.placeAddition(app, analysis.routes, (path) => path === "/metrics/llm");
    const edits = new TextEdits();
    edits.insert(app.file, at.index, `${at.prefix}${framework.errorHandler(app.name, indentUnit(app.file))}${at.suffix}`);
    edits.apply();
    context.needsImports(app.file, { runtime: ["LlmError", "llm_http_error"], routeHelpers: true });
  },
};
