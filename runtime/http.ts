/**
 * Framework-neutral HTTP helpers: turn the runtime's retryable errors into 503 + Retry-After
 * (GET /metrics/llm is answered by metrics-route.ts).
 */
import { LlmError } from "./errors.js";
import { sendLlmHttpError, unhandled, type HttpErrorReply } from "./responders.js";
import { keyOfRequest, runWithRequestKey } from "./request-key.js";


export interface LlmHttpErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: { code: string; message: string; retryable: true; retryAfterMs: number } };
}

/** 503 with Retry-After (whole seconds, at least 1) for the runtime's retryable errors; else undefined. */
export function llmHttpError(err: unknown): LlmHttpErrorResponse | undefined {
  if (!(err instanceof LlmError) || !err.retryable) return undefined;
  const retryAfterMs = err.retryAfterMs ?? 1000;
  return {
    status: 503,
    headers: { "Retry-After": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
    body: { error: { code: err.code, message: err.message, retryable: true, retryAfterMs: Math.ceil(retryAfterMs) } },
  };
}

export { hasFunctions, isObject, JSON_TYPE } from "./responders.js";

/**
 * Wrap a route handler of any framework in responders.ts (Express, Fastify, Koa, Hono, h3,
 * node:http): an LlmError that may be retried becomes 503 + Retry-After JSON in that framework's idiom (unless the response was
 * already sent); anything else goes on as before (`next(err)` for Express, a rethrow elsewhere).
 */
export function handleLlmErrors<H extends (...args: any[]) => unknown>(handler: H): H {
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    const fail = (err: unknown): unknown => {
      const mapped = llmHttpError(err);
      if (mapped) {
        const sent = sendLlmHttpError(args, mapped);
        if (sent !== unhandled) return sent;
      }
      // Express's `next` is the third argument (Koa's, the second, runs the rest of the chain instead).
      const next = args[2];
      if (typeof next === "function") {
        next(err);
        return undefined;
      }
      throw err;
    };
    try {
      // The request's canary key for every gated call the handler makes, in any module (request-key.ts).
      const result = runWithRequestKey(keyOfRequest(args), () => handler.apply(this, args));
      if (result !== null && typeof result === "object" && typeof (result as PromiseLike<unknown>).then === "function") {
        return Promise.resolve(result).then(undefined, fail);
      }
      return result;
    } catch (err) {
      return fail(err);
    }
  };
  return wrapped as unknown as H;
}

/** The parts of Nest's `ArgumentsHost` the filter uses. */
interface ArgumentsHostLike {
  switchToHttp(): { getResponse(): unknown };
}

/**
 * A NestJS exception filter for the runtime's errors: retryable ones become 503 + Retry-After,
 * others the 500 Nest itself would send. Register it with `app.useGlobalFilters(new LlmErrorFilter())`.
 */
export class LlmErrorFilter {
  constructor() {
    // What `@Catch(LlmError)` records: written by hand because the runtime imports no framework.
    // Nest reads it when the routes are set up, after reflect-metadata has loaded.
    const reflect = Reflect as unknown as { defineMetadata?: (key: string, value: unknown, target: object) => void };
    reflect.defineMetadata?.("__catch__", true, LlmErrorFilter);
    reflect.defineMetadata?.("__filterCatchExceptions__", [LlmError], LlmErrorFilter);
  }

  catch(error: unknown, host: ArgumentsHostLike): void {
    const response = host.switchToHttp().getResponse();
    const mapped: HttpErrorReply = llmHttpError(error) ?? {
      status: 500,
      headers: {},
      body: { statusCode: 500, message: "Internal server error" },
    };
    sendLlmHttpError([undefined, response], mapped);
  }
}
