import { TextEdits } from "../../src/languages/python/parse.js";
import { fastapi } from "../frameworks/fastapi.js";
import { hasLlmCalls, indentUnit, type PythonTransform } from "./context.js";
import { insertionPoint } from "./add-metrics-route.js";

export const addErrorHandler: PythonTransform = {
  name: "add-error-handler",
  description:
    "Adds an exception handler on the app that answers the runtime's LlmError (full queue, deadline, shedding) with 503 and Retry-After.",
  run(context) {
    const analysis = context.analyse();
    const { app } = analysis;
    if (!app || !hasLlmCalls(analysis) || fastapi.hasErrorHandler(analysis.files)) return;
    const at = insertionPoint(analysis, (path) => path === "/metrics/llm");
    const edits = new TextEdits();
    edits.insert(app.file, at.index, `${at.prefix}${fastapi.errorHandler(app.name, indentUnit(app.file))}${at.suffix}`);
    edits.apply();
    context.needsImports(app.file, { runtime: ["LlmError", "llm_http_error"], routeHelpers: true });
  },
};
