// The runtime's retryable errors become 503 + Retry-After in every framework's own idiom: real
// apps of each framework on loopback, with the handler wrapped as a migration wraps it.
import "reflect-metadata";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import Router from "@koa/router";
import { Controller, Get, Module } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
// @ts-expect-error express 5 is installed under an alias, so its types (express 4) do not apply
import express5 from "express5";
import Fastify from "fastify";
import Fastify4 from "fastify4";
import { createApp, createRouter, defineEventHandler, toNodeListener } from "h3";
import { Hono } from "hono";
import Koa from "koa";
import { afterAll, describe, expect, it } from "vitest";
import { handleLlmErrors, LlmErrorFilter, LlmOverloadedError } from "../../runtime/index.js";

const overloaded = () => new LlmOverloadedError({ retryAfterMs: 1500 });
const stops: (() => Promise<unknown>)[] = [];
afterAll(() => Promise.all(stops.map((stop) => stop())));

async function listen(server: Server): Promise<string> {
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  stops.push(() => new Promise((done) => server.close(done)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Starts one app per framework whose GET /llm throws what the runtime throws and GET /other a plain error. */
const apps: Record<string, () => Promise<string>> = {
  async express5() {
    const app = express5();
    app.get("/llm", handleLlmErrors(async () => Promise.reject(overloaded())));
    app.get("/other", handleLlmErrors(async () => Promise.reject(new Error("boom"))));
    return listen(createServer(app));
  },
  async fastify() {
    const app = Fastify();
    app.register(async (api) => {
      api.get("/llm", handleLlmErrors(async () => Promise.reject(overloaded())));
    });
    app.get("/other", handleLlmErrors(async () => Promise.reject(new Error("boom"))));
    await app.listen({ port: 0, host: "127.0.0.1" });
    stops.push(() => app.close());
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  },
  async fastify4() {
    const app = Fastify4();
    app.get("/llm", handleLlmErrors(async () => Promise.reject(overloaded())));
    app.get("/other", handleLlmErrors(async () => Promise.reject(new Error("boom"))));
    await app.listen({ port: 0, host: "127.0.0.1" });
    stops.push(() => app.close());
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  },
  async koa() {
    const app = new Koa();
    const router = new Router();
    router.get("/llm", handleLlmErrors(async () => Promise.reject(overloaded())));
    router.get("/other", handleLlmErrors(async () => Promise.reject(new Error("boom"))));
    app.silent = true;
    app.use(router.routes());
    return listen(createServer(app.callback()));
  },
  async hono() {
    const app = new Hono();
    app.get("/llm", handleLlmErrors(async () => Promise.reject(overloaded())));
    app.get("/other", handleLlmErrors(async () => Promise.reject(new Error("boom"))));
    app.onError((_err, c) => c.text("Internal Server Error", 500));
    const server = await new Promise<Server>((done) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => done(s as Server));
    });
    stops.push(() => new Promise((done) => server.close(done)));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  },
  async h3() {
    const app = createApp();
    const router = createRouter();
    router.get("/llm", defineEventHandler(handleLlmErrors(async () => Promise.reject(overloaded()))));
    router.get("/other", defineEventHandler(handleLlmErrors(async () => Promise.reject(new Error("boom")))));
    app.use(router);
    return listen(createServer(toNodeListener(app)));
  },
  async http() {
    const listener = handleLlmErrors(async (req: { url?: string }, res: { writeHead(s: number): { end(): void } }) => {
      if (req.url === "/llm") throw overloaded();
      res.writeHead(500).end();
    });
    return listen(createServer(listener));
  },
  async nest() {
    // Decorators applied by hand: vitest's transform emits no decorator metadata.
    class LlmController {
      llm(): never {
        throw overloaded();
      }
      other(): never {
        throw new Error("boom");
      }
    }
    Controller()(LlmController);
    for (const name of ["llm", "other"] as const) {
      Get(name)(LlmController.prototype, name, Object.getOwnPropertyDescriptor(LlmController.prototype, name)!);
    }
    class AppModule {}
    Module({ controllers: [LlmController] })(AppModule);
    const app = await NestFactory.create(AppModule, { logger: false });
    app.useGlobalFilters(new LlmErrorFilter());
    await app.listen(0, "127.0.0.1");
    stops.push(() => app.close());
    return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  },
};

describe.each(Object.keys(apps))("%s", (name) => {
  it("answers 503 + Retry-After for a retryable runtime error, and leaves other errors to the framework", async () => {
    const url = await apps[name]!();
    const llm = await fetch(`${url}/llm`);
    expect(llm.status).toBe(503);
    expect(llm.headers.get("retry-after")).toBe("2");
    expect(await llm.json()).toMatchObject({ error: { code: "llm_overloaded", retryable: true, retryAfterMs: 1500 } });
    const other = await fetch(`${url}/other`);
    expect(other.status).toBe(500);
  });
});
