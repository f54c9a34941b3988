/**
 * Why the migration left something for a human. Codes are stable: they appear in reports, in
 * `--json` output and in the `// llm-migrate: <CODE> <message>` comment at the spot.
 */
export interface ReasonMeta {
  /** "call-site" when a call was left as is; "finding" for everything else worth knowing. */
  scope: "call-site" | "finding";
  message: string;
  /** What a human does about it. */
  fix: string;
  /**
   * A call site left on purpose, which needs no human: it does not count as an LLM call left
   * (exit code 7), and no comment is written at it.
   */
  byDesign?: true;
}

export const reasons = {
  SYNC_CALLER: {
    scope: "call-site",
    message: "blocking LLM call in a sync function that other code calls for its value",
    fix: "make the function async, await it at its callers, then run llm-migrate again",
  },
  SYNC_CALLBACK: {
    scope: "call-site",
    message: "blocking LLM call in a sync callback whose return value may be used",
    fix: "move the call out of the callback or make the callback's caller await it",
  },
  CONSTRUCTOR: {
    scope: "call-site",
    message: "LLM call in a constructor, which cannot await",
    fix: "move the call to an async factory or method",
  },
  GETTER: {
    scope: "call-site",
    message: "LLM call in a getter, which cannot await",
    fix: "turn the getter into an async method",
  },
  SETTER: {
    scope: "call-site",
    message: "LLM call in a setter, which cannot await",
    fix: "turn the setter into an async method",
  },
  GENERATOR: {
    scope: "call-site",
    message: "blocking LLM call in a generator function",
    fix: "make it an async generator and await the call",
  },
  TOP_LEVEL: {
    scope: "call-site",
    message: "blocking LLM call outside any function",
    fix: "move the call into an async function",
  },
  DYNAMIC_CALLEE: {
    scope: "call-site",
    message: "the client method is chosen at run time (client[name](...))",
    fix: "call the method by name so the call can be gated",
  },
  STREAMING: {
    scope: "call-site",
    message: "streaming request whose stream the runtime cannot follow to its end (an axios response, a result object of streams), so a pool slot would be released too early",
    fix: "gate it by hand with getAsyncLlmClient().run() around the whole stream (for the openai v3 SDK: move to v4+)",
  },
  PER_REQUEST_CREDENTIAL: {
    scope: "call-site",
    message: "call on a client built from the request's own credential (a key from the request, a Workers env binding): it spends the caller's quota, not the server's, so it is left as is",
    fix: "nothing to do",
    byDesign: true,
  },
  BLOCKING_CHILD_PROCESS_CALL: {
    scope: "call-site",
    message: "a blocking child process runs the model (execSync, execFileSync or spawnSync of curl or ollama) right in the code, with no client to gate",
    fix: "move it into an async function that calls the model's HTTP API (or use the SDK), then run llm-migrate again",
  },
  EXTRA_ARGUMENTS: {
    scope: "call-site",
    message: "the wrapper call passes more than the messages, which generateResponseAsync would drop",
    fix: "pass the extra settings through the async client's options by hand",
  },
  WRAPPER_TARGET_UNKNOWN: {
    scope: "call-site",
    message: "the wrapper's endpoint, model or API (chat completions or Responses) could not be read from its code, or its request carries more than the model and the messages, so the new path could not call the same thing",
    fix: "gate the wrapper's own upstream call (its SDK request or fetch) by hand with gateLlmCall()",
  },
  NON_TEXT_RESULT: {
    scope: "call-site",
    message: "the wrapper returns something other than text, which the new path cannot reproduce",
    fix: "gate the call by hand with getAsyncLlmClient().run()",
  },
  CAUGHT_LOCALLY: {
    scope: "finding",
    message: "the gated call sits in a try/catch, so the runtime's retryable errors (queue full, deadline) reach your catch block instead of becoming 503 + Retry-After",
    fix: "in the catch block, answer `llmHttpError(err)` when it is defined (status, Retry-After header, body)",
  },
  PER_REQUEST_CLIENT: {
    scope: "finding",
    message: "client built per request (inside a handler or function), not shared: left as is",
    fix: "nothing to do unless it should be shared",
  },
  NO_SHARED_CLIENT: {
    scope: "finding",
    message: "no LLM client or call found",
    fix: "name the client with --client (and --method for a wrapper)",
  },
  MULTIPLE_CLIENTS: {
    scope: "finding",
    message: "more than one shared LLM client found; only the first was migrated",
    fix: "run again with --client for the other one",
  },
  NO_ENTRY_FILE: {
    scope: "finding",
    message: "no entry file found (nothing calls .listen())",
    fix: "name it with --entry",
  },
  NO_FRAMEWORK_ROUTE: {
    scope: "finding",
    message: "no supported web framework route found; GET /metrics/llm was not added",
    fix: "serve llmMetricsResponse() from your own route",
  },
  PY_SYNC_ROUTE: {
    scope: "call-site",
    message: "blocking LLM call in a sync def route, which FastAPI already runs in its thread pool",
    fix: "nothing to do; to gate it, make the route async def and run llm-migrate again",
    byDesign: true,
  },
  PY_THREAD_LOCK: {
    scope: "call-site",
    message: "LLM call under a threading.Lock (a thread-unsafe local model): the lock stays, and serialises these calls",
    fix: "move the with-block into a def and call it with await get_async_llm_client().run_sync(fn, ...)",
  },
  PY_STREAMING: {
    scope: "call-site",
    message: "streaming request: a pool slot would be released before the stream ends",
    fix: "move the request and the reading of its stream into one def and call that with await get_async_llm_client().run_sync(fn, ...)",
  },
  PY_RUNTIME_NAME_TAKEN: {
    scope: "call-site",
    message: "a module of the app named llm_api.py or llm_shared_limit.py already sits where the runtime would be vendored (beside the app), and vendoring would write over it",
    fix: "rename that module (and its imports), then run llm-migrate again",
  },
  PY_OTHER_SERVICE: {
    scope: "call-site",
    message: "LLM call in another service of the repository than the web app (a folder with its own requirements or Dockerfile), which cannot import the runtime vendored beside the app",
    fix: "run llm-migrate on that service's folder",
  },
  PY_NO_FASTAPI_APP: {
    scope: "finding",
    message: "no web app (FastAPI, aiohttp) found; GET /metrics/llm and the 503 handler for LlmError were not added",
    fix: "serve metrics_response() and llm_http_error() from your own routes",
  },
  CANARY_KEY_CLIENT_ADDRESS: {
    scope: "finding",
    message: "the only canary key is the client address: users behind one proxy or NAT share one bucket, so the canary share is all or nothing for them",
    fix: "give the handler a user id (a user_id parameter, current_user, an x-user-id header) and run llm-migrate again, or set key= yourself",
  },
  SERIALISED_WRAPPER: {
    scope: "finding",
    message: "the client lets one call through at a time (a queue, mutex or promise chain); the new path goes through the gate instead, the legacy path keeps it",
    fix: "nothing to do; remove it once the legacy path is retired",
  },
  RATE_LIMIT_QUEUE: {
    scope: "finding",
    message: "a queue with interval/intervalCap limits the request rate: kept on purpose, with the gated call inside it",
    fix: "nothing to do; drop the queue if LLM_POOL_SIZE limits the upstream enough",
  },
  RATE_LIMIT_BYPASSED: {
    scope: "finding",
    message: "the client's queue with interval/intervalCap limits the request rate; the new path does not go through it, so that limit no longer applies there",
    fix: "size LLM_POOL_SIZE for the upstream's limit, or keep the queue around the gated call by hand",
  },
  BLOCKING_CHILD_PROCESS: {
    scope: "finding",
    message: "the client blocks the event loop in a child process (execSync, execFileSync or spawnSync of curl or ollama); the new path calls the same endpoint and model over HTTP with generateResponseAsync instead (ollama run: its OpenAI-compatible API on the server OLLAMA_HOST names, 127.0.0.1:11434 when unset)",
    fix: "nothing to do: the new path reads OLLAMA_HOST as the ollama CLI does (`ollamaBaseUrl()` in the runtime)",
  },
  COMMAND_INJECTION: {
    scope: "finding",
    message: "values are interpolated into a shell command string: input that contains quotes or $( ) runs as shell code",
    fix: "call execFile/spawn with an argument array (or pass the prompt on stdin) instead of a shell string",
  },
  SERIALISED_CALL: {
    scope: "finding",
    message: "the call runs inside a queue or mutex that lets one call through at a time; the new path leaves it out, the legacy path keeps it",
    fix: "nothing to do; remove it once the legacy path is retired",
  },
} as const satisfies Record<string, ReasonMeta>;

export type ReasonCode = keyof typeof reasons;

/** Whether a call site left with this reason waits for a human (then `apply` and `scan --check` exit 7). */
export function needsHuman(reason: string | undefined): boolean {
  const meta: ReasonMeta | undefined = reason === undefined ? undefined : (reasons as Record<string, ReasonMeta>)[reason];
  return meta?.byDesign !== true;
}

/** The table the README shows. */
export const reasonTable: readonly ({ code: ReasonCode } & ReasonMeta)[] = Object.entries(reasons).map(
  ([code, meta]) => ({ code: code as ReasonCode, ...meta }),
);

/** The comment written above a call left for a human. */
export function leftComment(code: ReasonCode): string {
  return `// llm-migrate: ${code} ${reasons[code].message}; ${reasons[code].fix}`;
}
