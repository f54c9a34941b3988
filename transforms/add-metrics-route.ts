import { detectStyle, indentationAt, lineStartOf } from "../src/languages/typescript/source-style.js";
import { functionsReaching } from "./call-sites/reach.js";
import { relativePath, type Transform } from "./context.js";
import { mountPrefix } from "./frameworks/mount-prefix.js";
import { runtimeNamesIn } from "./runtime-names.js";
import { reasons } from "./reasons.js";
import type { Finding } from "./types.js";

export const addMetricsRoute: Transform = {
  name: "add-metrics-route",
  description:
    "Adds GET /metrics/llm in the framework's own idiom, on the app (a router only when no app is in sight), before the first route so no catch-all answers first.",
  run(context) {
    const analysis = context.analyse();
    const { framework, routes, calls, entryFile } = analysis;
    if (!calls.some((call) => !call.perRequestCredential)) return;
    if (!framework) {
      context.findings.push({ code: "NO_FRAMEWORK_ROUTE", kind: "warning", message: reasons.NO_FRAMEWORK_ROUTE.message });
      return;
    }
    if (framework.hasMetricsRoute(analysis.files)) return;
    // The routes that make an LLM call, in the handler or through the functions it calls.
    const reaching = functionsReaching(calls.filter((c) => !c.perRequestCredential).map((c) => c.call));
    const served = routes.filter((route) => route.handlers.some(({ fn }) => reaching.has(fn)));
    const place = framework.placeMetricsRoute(analysis.files, entryFile, served);
    const routeFile = place ? undefined : framework.metricsRouteFile?.(analysis.files, detectStyle(served[0]?.call.getSourceFile() ?? analysis.files[0]!));
    if (routeFile) {
      const file = context.input.project.createSourceFile(routeFile.path, routeFile.text);
      context.needsRuntime(file, "llmMetricsResponse");
      context.findings.push({
        code: "METRICS_ROUTE_ADDED",
        kind: "info",
        message: `GET /metrics/llm added as ${relativePath(context.input, file)}`,
        file: relativePath(context.input, file),
        line: 1,
      });
      return;
    }
    if (!place) {
      context.findings.push({ code: "NO_FRAMEWORK_ROUTE", kind: "warning", message: reasons.NO_FRAMEWORK_ROUTE.message });
      return;
    }
    // Read before the edits, which make the nodes stale.
    const prefix = `${framework.routePrefix?.(analysis.files) ?? ""}${mountPrefix(place.before, place.receiver)}`;
    const file = place.before.getSourceFile();
    // Before the comments that introduce the statement too: they belong to it.
    const at = place.before.getLeadingCommentRanges()[0]?.getPos() ?? place.before.getStart();
    const indent = indentationAt(file, at);
    const route = framework.metricsRoute(place, detectStyle(file)).replace(/\n/g, `\n${indent}`);
    const text = file.getFullText();
    const lineStart = lineStartOf(file, at);
    const previousLine = text.slice(text.lastIndexOf("\n", lineStart - 2) + 1, lineStart).trim();
    // A blank line on both sides, as between the neighbouring routes.
    const gap = previousLine === "" || previousLine.endsWith("{") ? "" : "\n";
    // First at its spot: a comment gate-call-sites leaves above the same statement stays with it.
    context.plan.insert(file, lineStart, `${gap}${indent}${route}\n\n`, { first: true });
    for (const edit of place.edits ?? []) context.plan.insert(edit.file, edit.pos, edit.text);
    context.needsRuntime(file, ...runtimeNamesIn(route));
    const finding: Finding = {
      code: "METRICS_ROUTE_ADDED",
      kind: "info",
      // The path the server really answers on: under Nest's global prefix, /api/metrics/llm; on a
      // router or plugin mounted under /api, the same.
      message: `GET ${prefix}/metrics/llm added on ${place.receiver}`,
      file: relativePath(context.input, file),
    };
    context.findings.push(finding);
    // The route's first line in the migrated file, once every edit and the runtime's import are in.
    const written = `${indent}${route}`;
    context.afterEdits.push(() => {
      const found = file.getFullText().indexOf(written);
      if (found !== -1) finding.line = file.getLineAndColumnAtPos(found + indent.length).line;
    });
  },
};
