// Run by `npm run build`: saves V8's code cache of TypeScript's compiler after planning the
// migration of a few example servers, so that the built CLI loads the compiler's bytecode instead
// of compiling it on every run (why: src/languages/typescript/typescript-code-cache.ts). Without a
// cache the CLI works as before, only slower: a failure here warns and leaves none (the lazy
// loading test then fails on the missing cache).
import { rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("..", import.meta.url));
const cacheFile = `${repo}dist/typescript.code-cache`;
// An older cache would be read by the planner below: start from none.
rmSync(cacheFile, { force: true });
try {
  const { preloadTypeScript, typeScriptCodeCache } = await import(`${repo}dist/src/languages/typescript/typescript-code-cache.js`);
  preloadTypeScript(undefined);
  const { planMigration } = await import(`${repo}dist/src/engine/plan.js`);
  // A TypeScript server and two JavaScript ones (ES modules, CommonJS): the paths a scan takes.
  for (const server of ["express-ts", "fastify", "express-cjs"]) {
    await planMigration(`${repo}fixtures/servers/${server}/input`, { poolSize: 10, canaryPercent: 100 }, { format: false });
  }
  const cache = typeScriptCodeCache();
  if (!cache) throw new Error("TypeScript was not loaded through the code cache's loader");
  writeFileSync(cacheFile, cache);
  console.log(`typescript-code-cache: ${(cache.length / 1024 / 1024).toFixed(1)} MB`);
} catch (error) {
  console.warn(`typescript-code-cache: none saved, the CLI compiles TypeScript on every run: ${error instanceof Error ? error.message : error}`);
}
