// Run by `npm run build`: the bundled runtime transpiled to JavaScript for ES-module and CommonJS
// servers, once, into dist/runtime-js/, so that `apply` on a JavaScript server copies it instead of
// loading TypeScript's emitter for it (src/engine/vendor-runtime.ts).
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("..", import.meta.url));
const { prebuildRuntime } = await import(`${repo}dist/src/engine/vendor-runtime.js`);
await prebuildRuntime();
