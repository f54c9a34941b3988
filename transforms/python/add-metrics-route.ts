import { TextEdits } from "../../src/languages/python/parse.js";
import type { Finding } from "../types.js";
import { finding, hasLlmCalls, indentUnit, relativePath, type PythonTransform } from "./context.js";

export const addMetricsRoute: PythonTransform = {
  name: "add-metrics-route",
  description: "Adds GET /metrics/llm as a route on the app, in its framework's idiom, where no catch-all registered earlier answers first.",
  run(context) {
    const analysis = context.analyse();
    const { app, framework } = analysis;
    if (!hasLlmCalls(analysis)) return;
    if (!app || !framework) {
      context.findings.push(finding("PY_NO_FASTAPI_APP", "warning"));
      return;
    }
    if (framework.hasMetricsRoute(analysis.files)) return;
    const at = framework.placeAddition(app, analysis.routes);
    const route = framework.metricsRoute(app.name, indentUnit(app.file));
    const edits = new TextEdits();
    edits.insert(app.file, at.index, `${at.prefix}${route}${at.suffix}`);
    edits.apply();
    context.needsImports(app.file, { runtime: ["metrics_response"], routeHelpers: true });
    const added: Finding = {
      code: "METRICS_ROUTE_ADDED",
      kind: "info",
      message: `GET /metrics/llm added on ${app.name}`,
      file: relativePath(context.input, app.file),
    };
    context.findings.push(added);
    // The route's first line in the migrated file, once the other transforms' edits and the imports are in.
    context.afterEdits.push(() => {
      const found = app.file.getFullText().indexOf(route);
      if (found !== -1) added.line = app.file.lineAt(found);
    });
  },
};
