/**
 * How a retryable error is answered in each framework's idiom, found by the shape of the
 * arguments the framework hands a route handler (duck-typed: the runtime imports no framework).
 * One entry per framework; each framework adapter of the codemod names its entry
 * (`errorResponder`), and a test keeps the two lists in step.
 */
export const JSON_TYPE = "application/json; charset=utf-8";

/** The members of framework objects (requests, replies, contexts) the runtime reads by their shape. */
type ShapeMember =
  | "__is_event__" | "accept" | "authorization" | "body" | "code" | "end" | "format" | "get" | "header" | "headers"
  | "headerSent" | "headersSent" | "json" | "node" | "query" | "req" | "request" | "res" | "response" | "send" | "sent"
  | "set" | "setHeader" | "status" | "statusCode" | "writeHead";
/** A framework object we do not import: any of those members may be there, of any type. */
type Loose = { [member in ShapeMember]?: any };
export const isObject = (value: unknown): value is Loose => value !== null && typeof value === "object";
export const hasFunctions = (value: unknown, ...names: ShapeMember[]): value is Loose =>
  isObject(value) && names.every((name) => typeof value[name] === "function");

/** What to answer: the runtime's 503, or the 500 Nest's filter sends for other errors. */
export interface HttpErrorReply {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Returned when the response was already sent: the error goes on as if not caught. */
export const unhandled = Symbol("unhandled");

export interface LlmErrorResponder {
  /** The framework, as its adapter names it. */
  name: string;
  /** Whether a handler called with `args` belongs to this framework. */
  matches(args: readonly unknown[]): boolean;
  /** Answers with `reply`; returns what the handler should return, or `unhandled`. */
  send(args: readonly unknown[], reply: HttpErrorReply): unknown;
}

/** Checked in this order: Express's response also has node:http's `writeHead` and `end`. */
export const responders: readonly LlmErrorResponder[] = [
  {
    name: "fastify",
    matches: ([, reply]) => hasFunctions(reply, "code", "header", "send"),
    send([, reply], { status, headers, body }) {
      const r = reply as Loose;
      if (r.sent) return unhandled;
      r.code(status);
      for (const [name, value] of Object.entries(headers)) r.header(name, value);
      return r.send(body);
    },
  },
  {
    name: "express",
    matches: ([, res]) => hasFunctions(res, "status", "json", "setHeader"),
    send([, res], { status, headers, body }) {
      const r = res as Loose;
      if (r.headersSent) return unhandled;
      r.status(status);
      for (const [name, value] of Object.entries(headers)) r.setHeader(name, value);
      r.json(body);
      return undefined;
    },
  },
  {
    name: "node-http",
    matches: ([, res]) => hasFunctions(res, "writeHead", "end"),
    send([, res], { status, headers, body }) {
      const r = res as Loose;
      if (r.headersSent) return unhandled;
      r.writeHead(status, { ...headers, "Content-Type": JSON_TYPE });
      r.end(JSON.stringify(body));
      return undefined;
    },
  },
  {
    // `(c)`: the handler returns the Response.
    name: "hono",
    matches: ([c]) => hasFunctions(c, "json", "header") && isObject((c as Loose).req),
    send: ([c], { status, headers, body }) => (c as Loose).json(body, status, headers),
  },
  {
    name: "koa",
    matches: ([ctx]) => hasFunctions(ctx, "set") && isObject((ctx as Loose).response) && isObject((ctx as Loose).request),
    send([ctx], { status, headers, body }) {
      const c = ctx as Loose;
      if (c.headerSent) return unhandled;
      c.status = status;
      for (const [name, value] of Object.entries(headers)) c.set(name, value);
      c.body = body;
      return undefined;
    },
  },
  {
    // h3 (Nitro, Nuxt) `(event)`: status and headers on the Node response, the body returned.
    name: "h3",
    matches: ([event]) => isObject(event) && event.__is_event__ === true && hasFunctions((event.node as Loose | undefined)?.res, "setHeader"),
    send([event], { status, headers, body }) {
      const res = ((event as Loose).node as Loose).res as Loose;
      if (res.headersSent) return unhandled;
      res.statusCode = status;
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      res.setHeader("Content-Type", JSON_TYPE);
      return JSON.stringify(body);
    },
  },
];

/** Sends `reply` through the first responder whose framework the arguments belong to. */
export function sendLlmHttpError(args: readonly unknown[], reply: HttpErrorReply): unknown {
  const responder = responders.find((r) => r.matches(args));
  return responder ? responder.send(args, reply) : unhandled;
}
