import { lineStartOf, TextEdits } from "../../src/languages/python/parse.js";
import { fastapi } from "../frameworks/fastapi.js";
import { finding, hasLlmCalls, indentUnit, relativePath, type PythonAnalysis, type PythonTransform } from "./context.js";

export const addMetricsRoute: PythonTransform = {
  name: "add-metrics-route",
  description: "Adds GET /metrics/llm as a FastAPI route on the app, before its first route so that no catch-all answers first.",
  run(context) {
    const analysis = context.analyse();
    const { app } = analysis;
    if (!hasLlmCalls(analysis)) return;
    if (!app) {
      context.findings.push(finding("PY_NO_FASTAPI_APP", "warning"));
      return;
    }
    if (fastapi.hasMetricsRoute(analysis.files)) return;
    const at = insertionPoint(analysis);
    const edits = new TextEdits();
    edits.insert(app.file, at.index, `${at.prefix}${fastapi.metricsRoute(app.name, indentUnit(app.file))}${at.suffix}`);
    edits.apply();
    context.needsImports(app.file, { runtime: ["metrics_response"], routeHelpers: true });
    context.findings.push({
      code: "METRICS_ROUTE_ADDED",
      kind: "info",
      message: `GET /metrics/llm added on ${app.name}`,
      file: relativePath(context.input, app.file),
      line: app.file.lineAt(at.index + at.prefix.length),
    });
  },
};

/**
 * Before the first route, router or mount registered on the app in its own module (FastAPI matches
 * in registration order); else two lines below the app itself. Other additions use it too.
 */
export function insertionPoint(
  analysis: PythonAnalysis,
  skip: (path: string | undefined) => boolean = () => false,
): { index: number; prefix: string; suffix: string } {
  const app = analysis.app!;
  const text = app.file.getFullText();
  const routes = analysis.routes.filter((r) => r.file === app.file && r.receiver === app.name && !skip(r.path)).map((r) => r.statement.startIndex);
  const includes = [...text.matchAll(new RegExp(`^${app.name}\\.(include_router|mount)\\(`, "gm"))].map((m) => m.index);
  const first = Math.min(...routes, ...includes);
  if (Number.isFinite(first) && first > app.statement.startIndex) {
    const index = lineStartOf(text, first);
    // Two blank lines on both sides, as PEP 8 puts them around top-level definitions.
    const blankLinesBefore = /\n*$/.exec(text.slice(0, index))![0].length - 1;
    return { index, prefix: "\n".repeat(Math.max(0, 2 - blankLinesBefore)), suffix: "\n\n\n" };
  }
  return { index: app.statement.endIndex, prefix: "\n\n\n", suffix: "" };
}
