/**
 * An OpenAI-compatible stub upstream for tests, benchmarks and the demo: `/v1/responses` and
 * `/v1/chat/completions`, plain and streamed (SSE), answering `echo: <last user message>`; also
 * ollama's native `/api/chat` and `/api/generate` (one JSON answer), so wrappers written for ollama
 * can be pointed at it.
 * It can be slow, rate-limit beyond a hidden concurrency limit, fail, run out of quota or hang,
 * and it counts what it saw. node:http only, so it stays small and starts fast.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface OpenAiStubOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Wait before answering a request it accepted. Default 0. */
  latencyMs?: number;
  /** Capacity K: requests served at once; beyond it the answer is 429 with retry-after-ms. 0 (default) = no limit. */
  concurrencyLimit?: number;
  /**
   * Send rate-limit headers on every answer, as OpenAI does: `x-ratelimit-limit-requests` is the
   * capacity K, `x-ratelimit-remaining-requests` what is left of it at the answer, and with a
   * tokens-per-minute limit `x-ratelimit-{limit,remaining,reset}-tokens`. Default false.
   */
  rateLimitHeaders?: boolean;
  /** Tokens (input + output, as `usage` counts them) accepted per rolling minute; beyond, 429. 0 (default) = no limit. */
  tokensPerMinute?: number;
  /** The "minute" of `tokensPerMinute`, in ms: shorter in tests, so a used-up budget comes back quickly. Default 60000. */
  tokenWindowMs?: number;
  /**
   * Requests worked on at once; the others wait their turn inside the stub, so an answer takes
   * `latencyMs` times the rounds it waited: latency grows with the calls in flight beyond this,
   * and no 429 ever says so (a congested upstream). 0 (default) = all at once.
   */
  servingLimit?: number;
  /** Value of retry-after-ms on rate-limit answers (retry-after gets it in whole seconds). Default 200. */
  retryAfterMs?: number;
  /** Answer the next N requests with `failStatus`. */
  failNext?: number;
  /** Status of `failNext` answers. Default 500. */
  failStatus?: number;
  /** Answer the next N requests with 429 rate_limit_exceeded (with retry-after-ms). */
  rateLimitNext?: number;
  /** Answer the next N requests with 429 insufficient_quota (which must not be retried). */
  insufficientQuotaNext?: number;
  /** Accept requests and never answer them (until configured otherwise or closed). */
  hang?: boolean;
}

export interface OpenAiStubRequest {
  /** Milliseconds since the epoch at arrival. */
  at: number;
  endpoint: string;
  model: string;
  /** Text of the last user message. */
  text: string;
  /** Status decided at arrival; 0 for a request left hanging. */
  status: number;
  stream: boolean;
}

export interface OpenAiStubStats {
  inFlight: number;
  peakInFlight: number;
  requests: number;
  byEndpoint: Record<string, number>;
  byStatus: Record<string, number>;
  /** Every model request in arrival order (the last 10,000). */
  received: OpenAiStubRequest[];
}

export interface OpenAiStub {
  /** Base URL ending in /v1, ready for OPENAI_BASE_URL. */
  url: string;
  port: number;
  stats(): OpenAiStubStats;
  configure(partial: Partial<OpenAiStubOptions>): void;
  /** Zero the stats and go back to the options given at start. */
  reset(): void;
  close(): Promise<void>;
}

type Behaviour = Required<Omit<OpenAiStubOptions, "port" | "host">>;

const MAX_RECEIVED = 10_000;
const DEFAULT_BEHAVIOUR: Behaviour = {
  latencyMs: 0,
  concurrencyLimit: 0,
  rateLimitHeaders: false,
  tokensPerMinute: 0,
  tokenWindowMs: 60_000,
  servingLimit: 0,
  retryAfterMs: 200,
  failNext: 0,
  failStatus: 500,
  rateLimitNext: 0,
  insufficientQuotaNext: 0,
  hang: false,
};
const OLLAMA_ENDPOINTS = new Set(["/api/chat", "/api/generate"]);
const MODEL_ENDPOINTS = new Set(["/v1/responses", "/v1/chat/completions", ...OLLAMA_ENDPOINTS]);

function behaviourFrom(options: Partial<OpenAiStubOptions>): Partial<Behaviour> {
  const picked: Partial<Behaviour> = {};
  for (const name of Object.keys(DEFAULT_BEHAVIOUR) as (keyof Behaviour)[]) {
    if (options[name] !== undefined) (picked as Record<string, unknown>)[name] = options[name];
  }
  return picked;
}

function emptyStats(): OpenAiStubStats {
  return { inFlight: 0, peakInFlight: 0, requests: 0, byEndpoint: {}, byStatus: {}, received: [] };
}

/** Text of a message content: a string, or parts carrying `text` (input_text, text, output_text). */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (part && typeof part === "object" && typeof part.text === "string" ? part.text : ""))
      .join("");
  }
  return "";
}

function lastUserText(body: Record<string, unknown>): string {
  const items = body.messages ?? body.input ?? body.prompt;
  if (typeof items === "string") return items;
  if (!Array.isArray(items)) return "";
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (item && typeof item === "object" && item.role === "user") return contentText(item.content);
  }
  return "";
}

let idCounter = 0;
function newId(prefix: string): string {
  idCounter++;
  return `${prefix}_${Date.now().toString(36)}${idCounter.toString(36)}`;
}

function usage(inputText: string, outputText: string) {
  const input = Math.max(1, inputText.split(/\s+/).filter(Boolean).length);
  const output = Math.max(1, outputText.split(/\s+/).filter(Boolean).length);
  return { input, output };
}

/** Tokens spent over the last window (a minute unless configured), oldest first, for a tokens-per-minute limit. */
class TokenWindow {
  private spent: Array<{ at: number; tokens: number }> = [];
  private total = 0;
  /** Read at each use, so `configure({ tokenWindowMs })` applies at once. */
  windowMs = 60_000;

  used(now: number): number {
    while (this.spent.length > 0 && this.spent[0]!.at <= now - this.windowMs) this.total -= this.spent.shift()!.tokens;
    return this.total;
  }

  spend(tokens: number, now: number): void {
    this.spent.push({ at: now, tokens });
    this.total += tokens;
  }

  /** Time until `tokens` more fit under `limit`. */
  waitFor(tokens: number, limit: number, now: number): number {
    let free = limit - this.used(now);
    for (const { at, tokens: spent } of this.spent) {
      if (free >= tokens) break;
      free += spent;
      if (free >= tokens) return at + this.windowMs - now;
    }
    return 0;
  }
}

/**
 * A congested upstream: `limit` requests are worked on at once, each for `latencyMs`; the rest
 * wait in arrival order. A request whose client went away leaves the queue (or frees its turn).
 */
class ServingQueue {
  private working = 0;
  private readonly waiting: Array<() => void> = [];

  enter(limit: number, latencyMs: number, res: ServerResponse, answer: () => void): void {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.working--;
      this.next(limit);
    };
    const work = () => {
      if (res.destroyed) return this.next(limit);
      this.working++;
      const timer = setTimeout(() => {
        answer();
        finish();
      }, latencyMs);
      res.on("close", () => {
        clearTimeout(timer);
        finish();
      });
    };
    if (this.working < limit) work();
    else this.waiting.push(work);
  }

  private next(limit: number): void {
    while (this.working < limit && this.waiting.length > 0) this.waiting.shift()!();
  }
}

/** Pieces of the answer for streaming, one word (with its space) each, as real streams send tokens. */
function pieces(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [text];
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

function sendError(res: ServerResponse, status: number, type: string, code: string | null, message: string, headers: Record<string, string> = {}) {
  sendJson(res, status, { error: { message, type, param: null, code } }, headers);
}

function writeSse(res: ServerResponse, events: Array<{ event?: string; data: unknown }>, done: boolean): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  for (const { event, data } of events) {
    res.write((event ? `event: ${event}\n` : "") + `data: ${JSON.stringify(data)}\n\n`);
  }
  if (done) res.write("data: [DONE]\n\n");
  res.end();
}

function chatCompletion(model: string, input: string, text: string, stream: boolean, res: ServerResponse): void {
  const id = newId("chatcmpl");
  const created = Math.floor(Date.now() / 1000);
  const tokens = usage(input, text);
  if (!stream) {
    sendJson(res, 200, {
      id,
      object: "chat.completion",
      created,
      model,
      choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, logprobs: null, finish_reason: "stop" }],
      usage: { prompt_tokens: tokens.input, completion_tokens: tokens.output, total_tokens: tokens.input + tokens.output },
    });
    return;
  }
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    data: { id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] },
  });
  writeSse(
    res,
    [chunk({ role: "assistant", content: "" }, null), ...pieces(text).map((piece) => chunk({ content: piece }, null)), chunk({}, "stop")],
    true,
  );
}

/** ollama's native answer, always whole (ollama streams NDJSON unless `stream: false`; the stub does not). */
function ollamaAnswer(endpoint: string, model: string, text: string, res: ServerResponse): void {
  const created_at = new Date().toISOString();
  if (endpoint === "/api/chat") sendJson(res, 200, { model, created_at, message: { role: "assistant", content: text }, done: true });
  else sendJson(res, 200, { model, created_at, response: text, done: true });
}

function responsesResponse(model: string, input: string, text: string, stream: boolean, res: ServerResponse): void {
  const id = newId("resp");
  const messageId = newId("msg");
  const tokens = usage(input, text);
  const part = { type: "output_text", text, annotations: [] };
  const message = { type: "message", id: messageId, status: "completed", role: "assistant", content: [part] };
  const response = (status: string, output: unknown[]) => ({
    id,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status,
    model,
    output,
    parallel_tool_calls: true,
    tool_choice: "auto",
    tools: [],
    error: null,
    incomplete_details: null,
    usage:
      status === "completed"
        ? {
            input_tokens: tokens.input,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens: tokens.output,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: tokens.input + tokens.output,
          }
        : null,
  });
  if (!stream) {
    sendJson(res, 200, response("completed", [message]));
    return;
  }
  let sequence = 0;
  const event = (type: string, fields: Record<string, unknown>) => ({ event: type, data: { type, sequence_number: sequence++, ...fields } });
  const at = { item_id: messageId, output_index: 0, content_index: 0 };
  writeSse(
    res,
    [
      event("response.created", { response: response("in_progress", []) }),
      event("response.in_progress", { response: response("in_progress", []) }),
      event("response.output_item.added", { output_index: 0, item: { ...message, status: "in_progress", content: [] } }),
      event("response.content_part.added", { ...at, part: { ...part, text: "" } }),
      ...pieces(text).map((delta) => event("response.output_text.delta", { ...at, delta, logprobs: [] })),
      event("response.output_text.done", { ...at, text, logprobs: [] }),
      event("response.content_part.done", { ...at, part }),
      event("response.output_item.done", { output_index: 0, item: message }),
      event("response.completed", { response: response("completed", [message]) }),
    ],
    false,
  );
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startOpenAiStub(options: OpenAiStubOptions = {}): Promise<OpenAiStub> {
  const initial: Behaviour = { ...DEFAULT_BEHAVIOUR, ...behaviourFrom(options) };
  let behaviour: Behaviour = { ...initial };
  let stats = emptyStats();
  let tokens = new TokenWindow();
  let serving = new ServingQueue();

  const count = (endpoint: string, status: number) => {
    stats.requests++;
    stats.byEndpoint[endpoint] = (stats.byEndpoint[endpoint] ?? 0) + 1;
    if (status !== 0) stats.byStatus[String(status)] = (stats.byStatus[String(status)] ?? 0) + 1;
  };

  const snapshot = (): OpenAiStubStats => ({
    ...stats,
    byEndpoint: { ...stats.byEndpoint },
    byStatus: { ...stats.byStatus },
    received: stats.received.map((entry) => ({ ...entry })),
  });

  const configure = (partial: Partial<OpenAiStubOptions>) => {
    behaviour = { ...behaviour, ...behaviourFrom(partial) };
  };

  const handleControl = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (req.method === "GET" && path === "/_stub/stats") return sendJson(res, 200, snapshot());
    if (req.method === "POST" && path === "/_stub/reset") {
      stub.reset();
      return sendJson(res, 200, { ok: true });
    }
    if (req.method === "POST" && path === "/_stub/config") {
      let partial: unknown;
      try {
        partial = JSON.parse((await readBody(req)) || "{}");
      } catch {
        return sendError(res, 400, "invalid_request_error", null, "config body is not JSON");
      }
      configure(partial as Partial<OpenAiStubOptions>);
      return sendJson(res, 200, behaviour);
    }
    return sendError(res, 404, "invalid_request_error", null, `no control route ${req.method} ${path}`);
  };

  const handleModel = async (req: IncomingMessage, res: ServerResponse, endpoint: string) => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    } catch {
      count(endpoint, 400);
      return sendError(res, 400, "invalid_request_error", null, "We could not parse the JSON body of your request.");
    }
    const text = lastUserText(body);
    const stream = body.stream === true;
    const model = typeof body.model === "string" ? body.model : "";
    const arrival = (status: number) => {
      count(endpoint, status);
      stats.received.push({ at: Date.now(), endpoint, model, text, status, stream });
      if (stats.received.length > MAX_RECEIVED) stats.received.shift();
    };
    const b = behaviour;
    const retryAfter = (ms: number) => ({ "retry-after-ms": String(Math.ceil(ms)), "retry-after": String(Math.max(1, Math.ceil(ms / 1000))) });
    const rateLimitHeaders = retryAfter(b.retryAfterMs);
    const now = Date.now();
    tokens.windowMs = b.tokenWindowMs;
    const callTokens = usage(text, `echo: ${text}`);
    const cost = callTokens.input + callTokens.output;
    // What OpenAI sends on every answer; computed at arrival, counting this request in.
    const limitHeaders = (inFlightAfter: number, tokensAfter: number): Record<string, string> => {
      if (!b.rateLimitHeaders) return {};
      const headers: Record<string, string> = {};
      if (b.concurrencyLimit > 0) {
        headers["x-ratelimit-limit-requests"] = String(b.concurrencyLimit);
        headers["x-ratelimit-remaining-requests"] = String(Math.max(0, b.concurrencyLimit - inFlightAfter));
        headers["x-ratelimit-reset-requests"] = `${Math.max(1, b.latencyMs)}ms`;
      }
      if (b.tokensPerMinute > 0) {
        headers["x-ratelimit-limit-tokens"] = String(b.tokensPerMinute);
        headers["x-ratelimit-remaining-tokens"] = String(Math.max(0, b.tokensPerMinute - tokensAfter));
        headers["x-ratelimit-reset-tokens"] = `${Math.ceil(tokens.waitFor(b.tokensPerMinute, b.tokensPerMinute, now))}ms`;
      }
      return headers;
    };

    if (b.insufficientQuotaNext > 0) {
      behaviour.insufficientQuotaNext--;
      arrival(429);
      return sendError(res, 429, "insufficient_quota", "insufficient_quota", "You exceeded your current quota, please check your plan and billing details.");
    }
    if (b.rateLimitNext > 0) {
      behaviour.rateLimitNext--;
      arrival(429);
      return sendError(res, 429, "requests", "rate_limit_exceeded", "Rate limit reached for requests.", rateLimitHeaders);
    }
    if (b.failNext > 0) {
      behaviour.failNext--;
      arrival(b.failStatus);
      return sendError(res, b.failStatus, "server_error", null, "The server had an error while processing your request.");
    }
    if (b.concurrencyLimit > 0 && stats.inFlight >= b.concurrencyLimit) {
      arrival(429);
      const headers = { ...rateLimitHeaders, ...limitHeaders(stats.inFlight, tokens.used(now)) };
      return sendError(res, 429, "requests", "rate_limit_exceeded", "Rate limit reached: too many concurrent requests.", headers);
    }
    if (b.tokensPerMinute > 0 && tokens.used(now) + cost > b.tokensPerMinute) {
      arrival(429);
      const headers = { ...retryAfter(tokens.waitFor(cost, b.tokensPerMinute, now)), ...limitHeaders(stats.inFlight, tokens.used(now)) };
      return sendError(res, 429, "tokens", "rate_limit_exceeded", "Rate limit reached for tokens per minute.", headers);
    }
    if (b.tokensPerMinute > 0) tokens.spend(cost, now);

    arrival(b.hang ? 0 : 200);
    stats.inFlight++;
    const answerHeaders = limitHeaders(stats.inFlight, tokens.used(now));
    stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
    const statsAtArrival = stats;
    let settled = false;
    const leave = () => {
      if (settled) return;
      settled = true;
      // A reset while this request ran started fresh stats; do not make them negative.
      if (statsAtArrival === stats) stats.inFlight--;
    };
    res.on("close", leave);
    if (b.hang) return;
    const answer = () => {
      if (res.destroyed) return leave();
      const reply = `echo: ${text}`;
      const answeredModel = model || "gpt-4o-mini";
      for (const [name, value] of Object.entries(answerHeaders)) res.setHeader(name, value);
      if (endpoint === "/v1/chat/completions") chatCompletion(answeredModel, text, reply, stream, res);
      else if (OLLAMA_ENDPOINTS.has(endpoint)) ollamaAnswer(endpoint, answeredModel, reply, res);
      else responsesResponse(answeredModel, text, reply, stream, res);
      leave();
    };
    if (b.servingLimit > 0) {
      serving.enter(b.servingLimit, b.latencyMs, res, answer);
    } else if (b.latencyMs > 0) {
      const timer = setTimeout(answer, b.latencyMs);
      res.on("close", () => clearTimeout(timer));
    } else {
      answer();
    }
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const handled = path.startsWith("/_stub/")
      ? handleControl(req, res, path)
      : MODEL_ENDPOINTS.has(path) && req.method === "POST"
        ? handleModel(req, res, path)
        : Promise.resolve(sendError(res, 404, "invalid_request_error", null, `Unknown request URL: ${req.method} ${path}.`));
    handled.catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, "server_error", null, String(err));
      else res.destroy();
    });
  });
  // Many concurrent keep-alive clients in tests and benches.
  server.keepAliveTimeout = 5_000;

  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const stub: OpenAiStub = {
    url: `http://${host}:${port}/v1`,
    port,
    stats: snapshot,
    configure,
    reset() {
      behaviour = { ...initial };
      stats = emptyStats();
      tokens = new TokenWindow();
      serving = new ServingQueue();
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hanging requests and idle keep-alive sockets would hold close() open.
        server.closeAllConnections();
      });
    },
  };
  return stub;
}
