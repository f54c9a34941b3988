#!/usr/bin/env node
// `npm run demo`: migrate a temporary copy of the bundled legacy Express server and show what changed.
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const example = join(root, "fixtures", "servers", "express-ts", "input");
const target = join(mkdtempSync(join(tmpdir(), "llm-migrate-demo-")), "support-chat");
cpSync(example, target, { recursive: true });

const cli = join(root, "bin", "llm-migrate.js");
function llmMigrate(...args) {
  console.log(`\n$ llm-migrate ${args.join(" ")}\n`);
  const run = spawnSync(process.execPath, [cli, ...args], { stdio: "inherit" });
  if (run.status !== 0) process.exit(run.status ?? 1);
}

console.log(`A copy of the bundled legacy server: ${target}`);
llmMigrate("scan", target);
llmMigrate("apply", target);
// `npm run demo` runs in the clone, where `node bin/llm-migrate.js` works whether or not
// `npm link` has put llm-migrate on the PATH.
const onPath = spawnSync("llm-migrate", ["--version"], { stdio: "ignore" }).status === 0;
console.log(`\nThe migrated copy stays in ${target}; undo with: ${onPath ? "llm-migrate" : "node bin/llm-migrate.js"} rollback ${target}`);
