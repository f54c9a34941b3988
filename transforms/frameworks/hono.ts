import { Node, SyntaxKind } from "../../src/languages/typescript/ts-morph.js";
import type { FrameworkAdapter } from "./adapter.js";
import {
  constructs,
  findVariable,
  firstCallStatement,
  HTTP_METHODS,
  importsModule,
  methodRoute,
  METRICS_PATH,
  parameterName,
  semicolon,
  servesMetricsPath,
  routesIn,
} from "./shared.js";

const MODULES = ["hono"];
const APP = /^Hono$/;
const REGISTERS = new Set([...HTTP_METHODS, "route", "use", "on", "mount"]);

export const hono: FrameworkAdapter = {
  name: "hono",
  language: "typescript",
  modules: MODULES,
  errorResponder: "hono",
  errorWrapper: "handleLlmErrors",

  detect(files) {
    return files.some((file) => importsModule(file, MODULES));
  },

  findRoutes(file) {
    return routesIn(file, (call) => methodRoute(call, isApp));
  },

  clientAddress(handler) {
    // Hono has no socket address that type-checks on every runtime (`c.env` is the app's own
    // Bindings type), so the proxy's header; without one, callers share one canary bucket.
    const c = parameterName(handler, 0);
    return c && `${c}.req.header("x-forwarded-for")`;
  },

  userKey(handler) {
    const c = parameterName(handler, 0);
    if (!c) return undefined;
    const read = handler
      .getDescendantsOfKind(SyntaxKind.PropertyAccessExpression)
      .find((access) => access.getName() === "id" && new RegExp(`^${c}\\.(get|var)\\b`).test(access.getExpression().getText()));
    return read?.getText();
  },

  placeMetricsRoute(files, entryFile) {
    const app = findVariable(files, entryFile, (init) => constructs(init, APP));
    if (!app) return undefined;
    const before = firstCallStatement(app.getSourceFile(), app.getName(), (method) => REGISTERS.has(method));
    return before ? { receiver: app.getName(), before } : undefined;
  },

  hasMetricsRoute: servesMetricsPath,

  metricsRoute({ receiver }, { quote: q, indent, semicolons }) {
    const end = semicolon(semicolons);
    return [
      `${receiver}.get(${q}${METRICS_PATH}${q}, async (c) => {`,
      `${indent}const metrics = await llmMetricsResponse({ format: c.req.query(${q}format${q}), headers: c.req.raw.headers })${end}`,
      `${indent}return new Response(metrics.body, { status: metrics.status, headers: { ${q}content-type${q}: metrics.contentType } })${end}`,
      `})${end}`,
    ].join("\n");
  },
};

function isApp(receiver: Node): boolean {
  if (!Node.isIdentifier(receiver)) return false;
  return (receiver.getSymbol()?.getDeclarations() ?? []).some((d) => Node.isVariableDeclaration(d) && constructs(d.getInitializer(), APP));
}
