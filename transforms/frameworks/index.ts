import type { SourceFile } from "ts-morph";
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

export function detectFramework(files: readonly SourceFile[]): FrameworkAdapter | undefined {
  return frameworks.find((framework) => framework.detect(files));
}
