// Preloaded by lazy-loading.test.ts: on exit, names the parser packages the CLI loaded (CommonJS
// packages are in require.cache whether they were imported or required). A worker thread (the
// prefetch of scan and apply) gets the preload too and reports on a line of its own.
const { isMainThread } = require("node:worker_threads");
const HEAVY = /node_modules[\\/](typescript|ts-morph|@ts-morph[\\/]common|prettier|jscodeshift)[\\/]/;
process.on("exit", () => {
  const loaded = new Set(Object.keys(require.cache).map((path) => HEAVY.exec(path)?.[1]).filter(Boolean));
  process.stderr.write(`${isMainThread ? "" : "worker "}heavy modules: ${[...loaded].sort().join(",") || "none"}\n`);
});
