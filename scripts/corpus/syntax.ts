/**
 * Does a file still parse after `apply`, and does the project still type-check? Type-checking
 * needs the project's dependencies installed; without them the answer is "n/a", never a guess.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import ts from "typescript";

const run = promisify(execFile);

const SCRIPT = /\.(?:[cm]?[jt]s|[jt]sx)$/;

/** Debian's python3 has the standard library `ast`; any python3 does for parsing. */
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

export function isChecked(path: string): boolean {
  return SCRIPT.test(path) || path.endsWith(".py");
}

function scriptErrors(path: string, text: string): string | undefined {
  const out = ts.transpileModule(text, { fileName: path, reportDiagnostics: true, compilerOptions: { allowJs: true, jsx: ts.JsxEmit.Preserve } });
  const first = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (!first) return undefined;
  const where = first.file && first.start !== undefined ? first.file.getLineAndCharacterOfPosition(first.start).line + 1 : 0;
  return `${path}:${where} ${ts.flattenDiagnosticMessageText(first.messageText, " ")}`;
}

const PY_CHECK = `
import ast, json, sys
bad = {}
for path in sys.argv[1:]:
    try:
        with open(path, "rb") as f:
            ast.parse(f.read(), filename=path)
    except SyntaxError as e:
        bad[path] = f"{path}:{e.lineno} {e.msg}"
print(json.dumps(bad))
`;

/**
 * Parse errors per relative path, for the files given (missing files are skipped). A file that did
 * not parse before apply is the input's problem, so callers compare before and after.
 */
export async function parseErrors(root: string, paths: readonly string[]): Promise<Map<string, string>> {
  const errors = new Map<string, string>();
  const python: string[] = [];
  for (const path of paths) {
    const full = join(root, path);
    if (!existsSync(full)) continue;
    if (path.endsWith(".py")) python.push(path);
    else if (SCRIPT.test(path)) {
      const error = scriptErrors(path, readFileSync(full, "utf8"));
      if (error) errors.set(path, error);
    }
  }
  if (python.length > 0) {
    const { stdout } = await run(PYTHON, ["-c", PY_CHECK, ...python], { cwd: root, maxBuffer: 16 << 20 });
    for (const [path, error] of Object.entries(JSON.parse(stdout) as Record<string, string>)) errors.set(path, error);
  }
  return errors;
}

/** True when every dependency in package.json is present in node_modules. */
function depsInstalled(root: string): boolean {
  const pkgPath = join(root, "package.json");
  if (!existsSync(pkgPath) || !existsSync(join(root, "node_modules"))) return false;
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
  return names.length > 0 && names.every((name) => existsSync(join(root, "node_modules", name, "package.json")));
}

/**
 * Number of type errors of the project, or undefined when it cannot be type-checked here (no
 * tsconfig.json, or its dependencies are not installed). tsc runs on a scratch copy: an
 * incremental tsconfig writes a .tsbuildinfo, which must not count as a change apply made.
 */
export async function typeErrorCount(project: string): Promise<number | undefined> {
  if (!existsSync(join(project, "tsconfig.json")) || !depsInstalled(project)) return undefined;
  const scratch = mkdtempSync(join(tmpdir(), "llm-migrate-corpus-tsc-"));
  try {
    const root = join(scratch, "project");
    cpSync(project, root, { recursive: true, verbatimSymlinks: true, filter: (source) => basename(source) !== ".git" });
    return await countTypeErrors(root);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function countTypeErrors(root: string): Promise<number> {
  // The project's own TypeScript when it has one: its code was written against that version.
  const own = join(root, "node_modules", "typescript", "bin", "tsc");
  const tsc = existsSync(own) ? own : join(import.meta.dirname, "..", "..", "node_modules", "typescript", "bin", "tsc");
  try {
    await run(process.execPath, [tsc, "-p", "tsconfig.json", "--noEmit", "--pretty", "false"], { cwd: root, maxBuffer: 64 << 20 });
    return 0;
  } catch (error) {
    const stdout = (error as { stdout?: string }).stdout ?? "";
    return stdout.split("\n").filter((line) => /error TS\d+/.test(line)).length;
  }
}
