import { Node } from "../../src/languages/typescript/ts-morph.js";
import type { CallExpression, ObjectLiteralExpression } from "ts-morph";
import type { FrameworkAdapter, RouteRegistration } from "./adapter.js";
import {
  constructs,
  findVariable,
  firstCallStatement,
  handlersOf,
  HTTP_METHODS,
  importsModule,
  methodRoute,
  METRICS_PATH,
  parameterName,
  semicolon,
  servesMetricsPath,
  statementOf,
  routesIn,
} from "./shared.js";

const MODULES = ["fastify"];
/** `Fastify()`, `fastify()`, `require("fastify")()`. */
const FACTORY = /^(fastify|require\(["']fastify["']\))(\.default|\.fastify)?$/i;
/** Calls that register something that may answer requests; the metrics route goes before them. */
const REGISTERS = new Set([...HTTP_METHODS, "route", "register"]);

export const fastify: FrameworkAdapter = {
  name: "fastify",
  language: "typescript",
  modules: MODULES,
  errorResponder: "fastify",
  errorWrapper: "handleLlmErrors",

  detect(files) {
    return files.some((file) => importsModule(file, MODULES));
  },

  findRoutes(file) {
    return routesIn(file, (call) => methodRoute(call, isAppOrPlugin) ?? shorthandRoute(call));
  },

  clientAddress(handler) {
    const request = parameterName(handler, 0);
    return request && `${request}.ip`;
  },

  placeMetricsRoute(files, entryFile, served) {
    const app = findVariable(files, entryFile, (init) => constructs(init, FACTORY));
    if (app) {
      const file = app.getSourceFile();
      const before =
        firstCallStatement(file, app.getName(), (method) => REGISTERS.has(method)) ??
        firstCallStatement(file, app.getName(), (method) => method === "listen");
      return before ? { receiver: app.getName(), before } : undefined;
    }
    // Routes only in a plugin (`export default async function routes(app) {…}`): its first route.
    const route = served[0];
    const before = route && firstCallStatement(route.call.getSourceFile(), route.receiver, (method) => REGISTERS.has(method));
    return route && before ? { receiver: route.receiver, before } : undefined;
  },

  hasMetricsRoute: servesMetricsPath,

  metricsRoute({ receiver }, { quote: q, indent, semicolons }) {
    const end = semicolon(semicolons);
    return [
      `${receiver}.get(${q}${METRICS_PATH}${q}, async (request, reply) => {`,
      `${indent}const metrics = await llmMetricsResponse({ query: request.query, headers: request.headers })${end}`,
      `${indent}return reply.code(metrics.status).type(metrics.contentType).send(metrics.body)${end}`,
      `})${end}`,
    ].join("\n");
  },
};

/** The app, or the instance a plugin receives (`async (app) => { app.get(…) }`). */
function isAppOrPlugin(receiver: Node): boolean {
  if (!Node.isIdentifier(receiver)) return false;
  return (receiver.getSymbol()?.getDeclarations() ?? []).some(
    (d) => (Node.isVariableDeclaration(d) && constructs(d.getInitializer(), FACTORY)) || (Node.isParameterDeclaration(d) && isPluginParameter(d)),
  );
}

/** The first parameter of a function that registers routes on it: a plugin. */
function isPluginParameter(parameter: Node): boolean {
  const fn = parameter.getParent();
  if (!Node.isFunctionLikeDeclaration(fn) && !Node.isArrowFunction(fn) && !Node.isFunctionExpression(fn)) return false;
  return fn.getParameters()[0] === parameter;
}

/** `app.route({ method: "POST", url: "/chat", handler })`. */
function shorthandRoute(call: CallExpression): RouteRegistration | undefined {
  const callee = call.getExpression();
  if (!Node.isPropertyAccessExpression(callee) || callee.getName() !== "route") return undefined;
  const receiver = callee.getExpression();
  const [options] = call.getArguments();
  if (!isAppOrPlugin(receiver) || !Node.isObjectLiteralExpression(options)) return undefined;
  const handler = propertyValue(options, "handler");
  const method = propertyValue(options, "method");
  const handlers = handler ? handlersOf([handler]) : [];
  const statement = statementOf(call);
  if (!handlers.length || !statement) return undefined;
  const methodName = Node.isStringLiteral(method) ? method.getLiteralText().toLowerCase() : "all";
  return { call, receiver: receiver.getText(), receiverNode: receiver, method: methodName, statement, handlers };
}

function propertyValue(object: ObjectLiteralExpression, name: string): Node | undefined {
  const property = object.getProperty(name);
  // Only `handler: …`: a shorthand or a method could not be wrapped in place.
  return Node.isPropertyAssignment(property) ? property.getInitializer() : undefined;
}
