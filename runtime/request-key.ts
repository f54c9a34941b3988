/**
 * The canary key of the request being handled, for gated calls far from the handler (a service
 * module's `gateLlmCall({}, …)`): handleLlmErrors runs each handler inside a store that holds the
 * request's key, so every call the request makes, in any module, lands on the same side of the
 * canary without passing the key down. The store starts with the user id the request carries
 * (`req.user.id`, Koa's `ctx.state.user.id`), else the client address; a call made with its own
 * key sets it for the rest of the request.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const requests = new AsyncLocalStorage<{ key: unknown }>();

const present = (key: unknown): boolean => key !== undefined && key !== null && key !== "";

export function runWithRequestKey<T>(key: unknown, fn: () => T): T {
  return requests.run({ key }, fn);
}

/** The key a gated call uses: its own, else its request's. */
export function requestKey(own: unknown): unknown {
  const request = requests.getStore();
  if (present(own)) {
    if (request) request.key = own;
    return own;
  }
  return request?.key;
}

/** The key a handler's arguments carry: a user id where the frameworks keep one, else the client address. */
export function keyOfRequest(args: readonly unknown[]): unknown {
  const first = args[0] as
    | { user?: { id?: unknown }; state?: { user?: { id?: unknown } }; ip?: unknown; socket?: { remoteAddress?: unknown } }
    | undefined;
  if (first === null || typeof first !== "object") return undefined;
  const userId = first.user?.id ?? first.state?.user?.id;
  if (present(userId)) return userId;
  return first.ip ?? first.socket?.remoteAddress;
}
