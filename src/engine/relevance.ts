import { sdkPackageNames } from "../languages/sdks.js";
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

/** Files larger than this are skipped unread: generated bundles, not a server's own code. */
export const MAX_SOURCE_BYTES = 1024 * 1024;

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
