import type { Node, SourceFile } from "ts-morph";
import { functionsReaching } from "../call-sites/reach.js";
import type { FrameworkAdapter } from "./adapter.js";
import { express } from "./express.js";
import { fastify } from "./fastify.js";
import { h3 } from "./h3.js";
import { hono } from "./hono.js";
import { http } from "./http.js";
import { koa } from "./koa.js";
import { nest } from "./nest.js";

export type { FrameworkAdapter, MetricsPlace, RouteHandler, RouteRegistration } from "./adapter.js";

/**
 * Adding a framework is one adapter here plus its fixtures (a test fails when an adapter file is
 * left out). Nest before Express (it runs on Express), and plain node:http last (every framework
 * runs on it).
 */
export const frameworks: readonly FrameworkAdapter[] = [nest, fastify, koa, hono, express, h3, http];

/**
 * The project's framework. When several are in sight (an Express login server beside a plain
 * https server that calls the model), the one whose routes reach an LLM call (`calls`) wins, so
 * that the metrics route goes on the server that makes them and the other stays untouched.
 */
export function detectFramework(files: readonly SourceFile[], calls: readonly Node[] = []): FrameworkAdapter | undefined {
  const found = frameworks.filter((framework) => framework.detect(files));
  if (found.length < 2 || !calls.length) return found[0];
  const reaching = functionsReaching(calls);
  const serves = (framework: FrameworkAdapter) => files.some((file) => framework.findRoutes(file).some((route) => route.handlers.some(({ fn }) => reaching.has(fn))));
  return found.find(serves) ?? found[0];
}
