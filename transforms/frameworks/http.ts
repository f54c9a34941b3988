import { Node, SyntaxKind } from "../../src/languages/typescript/ts-morph.js";
import type { CallExpression } from "ts-morph";
import type { FrameworkAdapter, RouteRegistration } from "./adapter.js";
import { handlersOf, importsModule, METRICS_PATH, parameterName, semicolon, servesMetricsPath, statementOf } from "./shared.js";

const MODULES = ["http", "node:http", "https", "node:https"];

/** Plain `http.createServer(listener)`: the listener is the one handler of every request. */
export const http: FrameworkAdapter = {
  name: "http",
  language: "typescript",
  modules: MODULES,
  errorResponder: "node-http",
  errorWrapper: "handleLlmErrors",

  detect(files) {
    return files.some((file) => importsModule(file, MODULES) && file.getDescendantsOfKind(SyntaxKind.CallExpression).some(isCreateServer));
  },

  findRoutes(file) {
    const routes: RouteRegistration[] = [];
    for (const call of file.getDescendantsOfKind(SyntaxKind.CallExpression)) {
      if (!isCreateServer(call)) continue;
      const handlers = handlersOf(call.getArguments().slice(-1));
      const statement = statementOf(call);
      if (!handlers.length || !statement) continue;
      const receiver = call.getExpression();
      routes.push({ call, receiver: receiver.getText().replace(/\s+/g, ""), receiverNode: receiver, method: "all", statement, handlers });
    }
    return routes;
  },

  clientAddress(handler) {
    const req = parameterName(handler, 0);
    return req && `${req}.socket.remoteAddress`;
  },

  placeMetricsRoute(_files, _entryFile, served) {
    // At the top of the listener that calls the model, before anything else answers.
    for (const route of served) {
      const { fn } = route.handlers[0]!;
      const req = parameterName(fn, 0);
      const res = parameterName(fn, 1);
      const body = Node.isArrowFunction(fn) || Node.isFunctionExpression(fn) || Node.isFunctionDeclaration(fn) ? fn.getBody() : undefined;
      const first = Node.isBlock(body) ? body.getStatements()[0] : undefined;
      if (req && res && first) return { receiver: route.receiver, before: first, parameters: [req, res] };
    }
    return undefined;
  },

  hasMetricsRoute: servesMetricsPath,

  metricsRoute({ parameters }, { quote: q, indent, semicolons }) {
    const [req, res] = parameters ?? ["req", "res"];
    const end = semicolon(semicolons);
    const i2 = indent + indent;
    return [
      `const llmMetricsUrl = new URL(${req}.url ?? ${q}/${q}, ${q}http://localhost${q})${end}`,
      `if (${req}.method === ${q}GET${q} && llmMetricsUrl.pathname === ${q}${METRICS_PATH}${q}) {`,
      `${indent}void llmMetricsResponse({ query: llmMetricsUrl.searchParams, headers: ${req}.headers }).then((metrics) => {`,
      `${i2}${res}.writeHead(metrics.status, { ${q}Content-Type${q}: metrics.contentType })${end}`,
      `${i2}${res}.end(metrics.body)${end}`,
      `${indent}})${end}`,
      `${indent}return${end}`,
      `}`,
    ].join("\n");
  },
};

/** `createServer(fn)`, `http.createServer(fn)`, `createServer(options, fn)`. */
function isCreateServer(call: CallExpression): boolean {
  return /^(\w+\.)?createServer$/.test(call.getExpression().getText().replace(/\s+/g, "")) && call.getArguments().length > 0;
}
