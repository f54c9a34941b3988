// `node --check` for many files in one process: the fixture suites check every JavaScript file
// they migrate, and one Node start per file cost more than the checks. Run with
// --experimental-vm-modules. Each file is parsed as Node 20's --check parses it
// (lib/internal/main/check_syntax.js): as an ES module when Node would load it as one (.mjs, or
// .js under a package.json with "type": "module"), else inside the CommonJS wrapper, with a
// leading #! line blanked as Node strips it. A .js file whose package.json names no type is
// parsed again as an ES module when the CommonJS parse fails on module syntax, as Node 20.19+
// detects it. Prints a JSON object of the files that do not parse, with V8's message.
import { existsSync, readFileSync } from "node:fs";
import Module from "node:module";
import { dirname, join } from "node:path";
import vm from "node:vm";

/** "module", "commonjs", or undefined when the .js file's package.json names no type (Node then detects it). */
function format(file) {
  if (file.endsWith(".mjs")) return "module";
  if (file.endsWith(".cjs")) return "commonjs";
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, "utf8")).type;
    if (dirname(dir) === dir) return undefined;
  }
}

// Node's list (lib/internal/modules/helpers.js, shouldRetryAsESM): errors that mean ES module syntax.
const MODULE_SYNTAX = [
  "Cannot use import statement outside a module",
  "Unexpected token 'export'",
  "Cannot use 'import.meta' outside a module",
  "await is only valid in async functions and the top level bodies of modules",
];

function parse(file, source) {
  const kind = format(file);
  if (kind === "module") return void new vm.SourceTextModule(source, { identifier: file });
  try {
    new vm.Script(Module.wrap(source.replace(/^#!.*/, "")), { filename: file });
  } catch (error) {
    if (kind === undefined && MODULE_SYNTAX.includes(error.message)) return void new vm.SourceTextModule(source, { identifier: file });
    throw error;
  }
}

const errors = {};
for (const file of process.argv.slice(2)) {
  const source = readFileSync(file, "utf8");
  try {
    parse(file, source);
  } catch (error) {
    errors[file] = `${error.name}: ${error.message}`;
  }
}
process.stdout.write(JSON.stringify(errors));
