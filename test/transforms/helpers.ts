import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import ts from "typescript";
import { loadTarget } from "../../src/engine/load.js";
import { migrationFor } from "../../src/engine/languages.js";
import type { MigrationOutcome, MigrationSettings } from "../../transforms/types.js";

export { FIXTURES, PYTHON, REPO, ROOT } from "../paths.js";
import { PYTHON, REPO } from "../paths.js";

const SOURCE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;
const TYPESCRIPT = /\.[cm]?tsx?$/;

export const DEFAULT_SETTINGS: MigrationSettings = { poolSize: 10, canaryPercent: 100 };

/** Every file under `dir`, relative, with forward slashes. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split("\\").join("/"))
    .sort();
}

export function readTree(dir: string): Map<string, string> {
  return new Map(listFiles(dir).map((path) => [path, readFileSync(join(dir, path), "utf8")]));
}

export function writeTree(dir: string, tree: Map<string, string>): void {
  for (const [path, text] of tree) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

export interface MigrationRun {
  outcome: MigrationOutcome;
  /** Text after the run of every file the engine loaded or the migration created, by relative path. */
  sources: Map<string, string>;
  /** Where the runtime is to be vendored, relative to the root; undefined when nothing is. */
  runtimeDir?: string;
}

/**
 * Migrates a tree (relative path → text) the way the CLI does: written to a scratch folder,
 * loaded by the engine's own loadTarget (discovery, relevance filter, parsing) and migrated by the
 * language the engine picks. The folder is outside the repo so that no node_modules above it
 * gives the target types it would not have on its own.
 */
export async function migrateTree(tree: Map<string, string>, only?: readonly string[], settings = DEFAULT_SETTINGS): Promise<MigrationRun> {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "llm-migrate-fixture-")));
  try {
    writeTree(root, tree);
    const loaded = await loadTarget(root, settings);
    const migrate = migrationFor(loaded.pythonFiles);
    const outcome = await migrate({ project: loaded.project, pythonFiles: loaded.pythonFiles, rootDir: root, settings: loaded.settings, only });
    const sources = new Map<string, string>();
    for (const file of loaded.files.values()) {
      if (!file.sourceFile.wasForgotten()) sources.set(file.path, file.sourceFile.getFullText());
    }
    // Files the migration created (a Nest controller, say), as the engine's plan picks them up.
    for (const file of loaded.project.getSourceFiles()) {
      const path = relative(root, file.getFilePath()).split("\\").join("/");
      if (!path.startsWith("../") && !path.split("/").includes("node_modules") && !sources.has(path)) sources.set(path, file.getFullText());
    }
    const runtimeDir = outcome.runtimeDir === undefined ? undefined : relative(root, outcome.runtimeDir).split("\\").join("/");
    return { outcome, sources, runtimeDir };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The expected tree: input, with each file that has an output/ twin replaced by it. */
export function expectedTree(caseDir: string): Map<string, string> {
  const tree = readTree(join(caseDir, "input"));
  for (const [path, text] of readTree(join(caseDir, "output"))) tree.set(path, text);
  return tree;
}

/** UPDATE_FIXTURES=1: writes each changed source file to output/ and drops twins of unchanged ones. */
export function writeOutputs(caseDir: string, input: Map<string, string>, sources: Map<string, string>): void {
  const outputDir = join(caseDir, "output");
  for (const [path, text] of sources) {
    const target = join(outputDir, path);
    if (input.get(path) === text) {
      rmSync(target, { force: true });
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
}

export interface CompileCase {
  name: string;
  /** The migrated tree, relative path → text. */
  tree: Map<string, string>;
  /** Where the runtime goes, relative to the tree's root. */
  runtimeDir: string | undefined;
}

/**
 * Writes each migrated tree plus the runtime to a folder inside the repo (so that node_modules
 * resolves) and checks them all at once: one TypeScript program for every case that has
 * TypeScript, `node --check` for the others. Returns the errors by case name.
 */
export function checkCompiles(cases: readonly CompileCase[]): Map<string, string[]> {
  const dir = mkdtempSync(join(REPO, ".tmp-transforms-"));
  const errors = new Map<string, string[]>(cases.map((c) => [c.name, []]));
  try {
    const typed: string[] = [];
    const scripts: { name: string; path: string; file: string }[] = [];
    for (const { name, tree, runtimeDir } of cases) {
      const caseDir = join(dir, name);
      writeTree(caseDir, tree);
      // Without one, the repo's own package.json ("type": "module") would decide the module system.
      if (!tree.has("package.json")) writeFileSync(join(caseDir, "package.json"), "{}\n");
      const sources = [...tree.keys()].filter((p) => SOURCE.test(p));
      if (runtimeDir !== undefined && sources.length > 0) {
        // A link to one shared copy per module system: TypeScript follows it to the real path, so
        // the runtime is read once per program, not once per case, and as ESM or CommonJS the way
        // the case's package.json would load it.
        const target = join(caseDir, runtimeDir);
        mkdirSync(dirname(target), { recursive: true });
        symlinkSync(sharedRuntime(dir, moduleType(tree, runtimeDir), typed), target, "dir");
      }
      if ([...tree.keys()].some((p) => p.endsWith(".py"))) {
        errors.get(name)!.push(...pyCompile(caseDir, runtimeDir));
        continue;
      }
      if (sources.some((p) => TYPESCRIPT.test(p))) {
        typed.push(...listFiles(caseDir).filter((p) => TYPESCRIPT.test(p)).map((p) => join(caseDir, p)));
        continue;
      }
      for (const path of sources) scripts.push({ name, path, file: join(caseDir, path) });
    }
    if (scripts.length > 0) {
      const failed = nodeCheck(scripts.map((script) => script.file));
      for (const { name, path, file } of scripts) if (failed[file]) errors.get(name)!.push(`${path}: ${failed[file]}`);
    }
    for (const diagnostic of typeCheck(dir, typed)) {
      const path = diagnostic.file ? relative(dir, diagnostic.file.fileName).split("\\").join("/") : "";
      const [name = "", ...rest] = path.split("/");
      const where = diagnostic.file ? `${errors.has(name) ? rest.join("/") : path}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1}: ` : "";
      const message = where + ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
      // An error in the shared runtime (or in no file) fails every case.
      for (const list of errors.has(name) ? [errors.get(name)!] : errors.values()) list.push(message);
    }
    return errors;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `node --check` on each file, in one Node process (./node-check.mjs); the files that do not parse, with the message. */
function nodeCheck(files: readonly string[]): Record<string, string> {
  const checker = join(REPO, "test", "transforms", "node-check.mjs");
  const output = execFileSync(process.execPath, ["--experimental-vm-modules", "--no-warnings", checker, ...files], { encoding: "utf8" });
  return JSON.parse(output) as Record<string, string>;
}

const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  // Each case is its own program in all but name: no file's top level is shared with another case's.
  moduleDetection: ts.ModuleDetectionKind.Force,
  strict: true,
  esModuleInterop: true,
  skipLibCheck: true,
  // NestJS fixtures use parameter decorators, which only the legacy decorators allow.
  experimentalDecorators: true,
  noEmit: true,
  types: ["node"],
  typeRoots: [join(REPO, "node_modules/@types")],
};


/** Byte-compiles every module in a folder, with the vendored Python runtime in runtimeDir (relative); returns the complaints. */
export function pyCompile(caseDir: string, runtimeDir: string | undefined): string[] {
  if (runtimeDir !== undefined) {
    for (const file of ["llm_api.py", "llm_shared_limit.py"]) cpSync(join(REPO, "runtime", "python", file), join(caseDir, runtimeDir, file));
  }
  const modules = listFiles(caseDir).filter((p) => p.endsWith(".py"));
  try {
    execFileSync(PYTHON, ["-m", "py_compile", ...modules], { cwd: caseDir, stdio: "pipe", env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
    return [];
  } catch (error) {
    return [String((error as { stderr?: Buffer }).stderr ?? error)];
  }
}

/** The nearest package.json's "type" above the runtime's folder, as Node would read it. */
function moduleType(tree: Map<string, string>, runtimeDir: string): string {
  for (let dir = runtimeDir; ; dir = dirname(dir)) {
    const text = tree.get(dir === "." ? "package.json" : `${dir}/package.json`);
    if (text !== undefined) return (JSON.parse(text) as { type?: string }).type ?? "commonjs";
    if (dir === "." || dir === "") return "commonjs";
  }
}

/** dir/runtime-<type>/: the runtime's .ts files once, added to the program's files the first time. */
function sharedRuntime(dir: string, type: string, typed: string[]): string {
  const target = join(dir, `runtime-${type}`);
  if (existsSync(target)) return target;
  mkdirSync(target);
  writeFileSync(join(target, "package.json"), JSON.stringify({ type }) + "\n");
  for (const file of readdirSync(join(REPO, "runtime"))) {
    if (!file.endsWith(".ts")) continue;
    cpSync(join(REPO, "runtime", file), join(target, file));
    typed.push(join(target, file));
  }
  return target;
}

/** Declaration files (lib, node_modules) parse once per test file, not once per program. */
const declarationFiles = new Map<string, ts.SourceFile>();

function typeCheck(dir: string, files: readonly string[]): readonly ts.Diagnostic[] {
  if (files.length === 0) return [];
  const host = ts.createCompilerHost(COMPILER_OPTIONS);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    if (!fileName.endsWith(".d.ts")) return getSourceFile(fileName, languageVersion, onError, shouldCreate);
    let file = declarationFiles.get(fileName);
    if (!file) {
      file = getSourceFile(fileName, languageVersion, onError, shouldCreate);
      if (file) declarationFiles.set(fileName, file);
    }
    return file;
  };
  // TypeScript follows links only into node_modules; a case's runtime link is followed here too.
  const cache = ts.createModuleResolutionCache(host.getCurrentDirectory(), (name) => name, COMPILER_OPTIONS);
  host.resolveModuleNameLiterals = (literals, containingFile, redirected, options, containingSourceFile) =>
    literals.map((literal) => {
      const mode = ts.getModeForUsageLocation(containingSourceFile, literal, options);
      const result = ts.resolveModuleName(literal.text, containingFile, options, host, cache, redirected, mode);
      const resolved = result.resolvedModule;
      if (resolved && resolved.resolvedFileName.startsWith(dir + "/") && !resolved.isExternalLibraryImport) {
        return { ...result, resolvedModule: { ...resolved, resolvedFileName: realpathSync(resolved.resolvedFileName) } };
      }
      return result;
    });
  const program = ts.createProgram(files, COMPILER_OPTIONS, host);
  // The cases' own files are checked; the shared runtime's copies are only read for the types the
  // cases use (test/runtime/portability.test.ts and strictest.test.ts check the runtime itself).
  const own = program.getSourceFiles().filter((file) => !file.isDeclarationFile && !/^runtime-(module|commonjs)\//.test(relative(dir, file.fileName)));
  return [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...own.flatMap((file) => [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]),
  ];
}
