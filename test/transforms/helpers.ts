import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { Project } from "ts-morph";
import ts from "typescript";
import { migrateTypeScriptProject } from "../../transforms/index.js";
import type { MigrationOutcome, MigrationSettings } from "../../transforms/types.js";

export const REPO = join(import.meta.dirname, "../..");
export const FIXTURES = join(REPO, "fixtures");
/** Where the target lives in the in-memory file system. */
export const ROOT = "/target";
const SOURCE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

export const DEFAULT_SETTINGS: MigrationSettings = { poolSize: 10, canaryPercent: 100 };

/** Every file under `dir`, relative, with forward slashes. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split("\\").join("/"))
    .sort();
}

export interface MigrationRun {
  outcome: MigrationOutcome;
  /** Source text of every file after the run, by relative path. */
  sources: Map<string, string>;
}

/** Loads a tree (relative path → text) into an in-memory project and migrates it, as the engine would. */
export function migrateTree(tree: Map<string, string>, only?: readonly string[], settings = DEFAULT_SETTINGS): MigrationRun {
  const project = new Project({
    useInMemoryFileSystem: true,
    compilerOptions: { allowJs: true, strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
  });
  const fs = project.getFileSystem();
  for (const [path, text] of tree) {
    if (SOURCE.test(path)) project.createSourceFile(`${ROOT}/${path}`, text);
    else fs.writeFileSync(`${ROOT}/${path}`, text);
  }
  const outcome = migrateTypeScriptProject({ project, rootDir: ROOT, settings, only });
  const sources = new Map<string, string>();
  for (const file of project.getSourceFiles()) sources.set(file.getFilePath().slice(ROOT.length + 1), file.getFullText());
  return { outcome, sources };
}

export function readTree(dir: string): Map<string, string> {
  return new Map(listFiles(dir).map((path) => [path, readFileSync(join(dir, path), "utf8")]));
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

/**
 * Writes the migrated tree plus the runtime to a folder inside the repo (so that node_modules
 * resolves) and type-checks it (TypeScript) or syntax-checks it (JavaScript). Returns the errors.
 */
export function checkCompiles(tree: Map<string, string>, runtimeDir: string | undefined): string[] {
  const dir = mkdtempSync(join(REPO, ".tmp-transforms-"));
  try {
    for (const [path, text] of tree) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    // Without one, the repo's own package.json ("type": "module") would decide the module system.
    if (!tree.has("package.json")) writeFileSync(join(dir, "package.json"), "{}\n");
    if (runtimeDir) {
      const target = join(dir, relative(ROOT, runtimeDir));
      mkdirSync(target, { recursive: true });
      for (const name of readdirSync(join(REPO, "runtime"))) {
        if (name.endsWith(".ts")) cpSync(join(REPO, "runtime", name), join(target, name));
      }
    }
    const sources = [...tree.keys()].filter((p) => SOURCE.test(p));
    if (sources.some((p) => /\.[cm]?tsx?$/.test(p))) return typeCheck(dir);
    const errors: string[] = [];
    for (const path of sources) {
      try {
        execFileSync(process.execPath, ["--check", join(dir, path)], { stdio: "pipe" });
      } catch (error) {
        errors.push(`${path}: ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
      }
    }
    return errors;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function typeCheck(dir: string): string[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
    // NestJS fixtures use parameter decorators, which only the legacy decorators allow.
    experimentalDecorators: true,
    noEmit: true,
    types: ["node"],
    typeRoots: [join(REPO, "node_modules/@types")],
  };
  const files = listFiles(dir).filter((p) => /\.[cm]?tsx?$/.test(p)).map((p) => join(dir, p));
  const program = ts.createProgram(files, options);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${relative(dir, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : "";
    return where + ts.flattenDiagnosticMessageText(d.messageText, "\n");
  });
}
