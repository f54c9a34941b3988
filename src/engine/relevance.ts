/**
 * Words that make a file worth parsing: the LLM SDKs and wrappers, and the web frameworks and
 * server calls the transforms look for. Kept in one place so that a new framework adapter only
 * adds its module name here. Matched case-insensitively anywhere in the text, which also covers
 * `import`/`require` of these modules.
 */
export const RELEVANT_WORDS = [
  "openai",
  "llm",
  "generateResponse",
  "chat.completions",
  "responses.create",
  "completions",
  "express",
  "fastify",
  "koa",
  "hono",
  "@nestjs",
  "createServer",
  "listen",
  "fastapi",
] as const;

/** Files larger than this are skipped unread: generated bundles, not a server's own code. */
export const MAX_SOURCE_BYTES = 1024 * 1024;

export function relevanceTest(extraNames: readonly (string | undefined)[]): (text: string) => boolean {
  const words = [...RELEVANT_WORDS, ...extraNames.filter((name): name is string => Boolean(name))];
  const pattern = new RegExp(words.map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "i");
  return (text) => pattern.test(text);
}
