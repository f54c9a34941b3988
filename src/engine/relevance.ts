import { LLM_HTTP_APIS, SDKS, sdkPackageNames } from "../languages/sdks.js";
import { frameworks } from "../../transforms/frameworks/index.js";
import { pythonFrameworks } from "../../transforms/frameworks/python-frameworks.js";

/**
 * What makes a file worth parsing. The engine names no framework and no SDK: modules come from
 * the framework adapters (`modules`) and the SDK table (`packages`), so that a new adapter or
 * SDK row is read without an edit here.
 */

/** Matched case-insensitively anywhere in the text: a hand-written wrapper's and a plain server's shapes. */
export const RELEVANT_WORDS: readonly string[] = ["llm", "openai", "generateResponse", "chat.completions", "responses.create", "completions", "createServer", "listen"];

/** Matched where a module is named: `"ai"`, `'hono/node-server'`, `from aiohttp import web`, `import openai`. */
export function relevantModules(): string[] {
  return [...new Set([...sdkPackageNames(), ...frameworks.flatMap((f) => f.modules), ...pythonFrameworks.flatMap((f) => f.modules)])];
}

const escape = (word: string): string => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export function relevanceTest(extraNames: readonly (string | undefined)[]): (text: string) => boolean {
  const words = [...RELEVANT_WORDS, ...extraNames.filter((name): name is string => Boolean(name))].map(escape);
  const modules = relevantModules().map(escape).join("|");
  const pattern = new RegExp(
    [...words, `["'\`](?:${modules})["'\`/]`, `(?:^|\\s)(?:from|import)\\s+(?:${modules})\\b`].join("|"),
    "im",
  );
  return (text) => pattern.test(text);
}

/** `chat.completions.create` as written in code: any spacing and optional chaining between the names. */
function chainPattern(path: string): string {
  return path.split(".").map(escape).join("\\s*\\??\\.\\s*");
}

/**
 * Whether a module could hold an LLM call, from its text alone: it calls a method (or free
 * function) of the SDK table's rows, or names a URL or an LLM HTTP API's path. A module that a
 * chosen file imports is parsed only then (or when it mentions a relevant word): a wrapper handed
 * the client (`this.client.messages.create(…)`) names no package, but it names the call.
 * Calling the client itself (`rp(…)`, `llm(…)`) leaves no such trace; those rows' clients are
 * made where the package is named, and that file is chosen on its own.
 */
export function llmCallTest(extraNames: readonly (string | undefined)[]): (text: string) => boolean {
  const paths = new Set<string>();
  for (const row of SDKS) {
    for (const call of row.calls) if (call.path) paths.add(call.path);
    const derivedPaths = new Set((row.derived ?? []).map((derived) => derived.path));
    for (const derived of row.derived ?? []) {
      paths.add(derived.path);
      // `getGenerativeModel.startChat` continues another derived client: it is written `….startChat(…)`.
      const dot = derived.path.lastIndexOf(".");
      if (derivedPaths.has(derived.path.slice(0, dot))) paths.add(derived.path.slice(dot + 1));
      for (const call of derived.calls) if (call.path) paths.add(call.path);
    }
  }
  const calls = [...paths].map((path) => `${chainPattern(path)}\\s*\\(`);
  // Any URL too: a request's target may be a constant of this module (`GENERATOR_URL = "http://generator/…"`),
  // and the detection reads it to tell the project's own service from an LLM API.
  const http = ["://", ...LLM_HTTP_APIS.hosts, ...LLM_HTTP_APIS.paths, ...LLM_HTTP_APIS.ollama.paths, String(LLM_HTTP_APIS.ollama.port)].map(escape);
  const extra = extraNames.filter((name): name is string => Boolean(name)).map(escape);
  const pattern = new RegExp([...calls, ...http, ...extra].join("|"));
  return (text) => pattern.test(text);
}
