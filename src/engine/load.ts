import { lstat, readFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { Project, typescript } from "../languages/typescript/ts-morph.js";
import type { ts, CompilerOptions, SourceFile } from "ts-morph";
import type { Finding, MigrationSettings } from "../../transforms/types.js";
import { PythonSourceFile } from "../languages/python/parse.js";
import { discoverSourceFiles, isSourceFile, MAX_SOURCE_BYTES, toRelative, type SourceEntry } from "./discover.js";
import { BadInputError } from "./errors.js";
import { engineFinding } from "./findings.js";
import { isPythonFile, loadPythonFile } from "./languages.js";
import { filesToParse } from "./candidates.js";
import type { Prefetch } from "./prefetch.js";
import { readSources } from "./read.js";
import { addInstalledSdkTypes } from "./sdk-types.js";
import { llmCallTest, relevanceTest } from "./relevance.js";
import { decodeText, looksBinary, type TextStyle } from "./text.js";
import { tsConfigOptions } from "./tsconfig-options.js";

export interface LoadedFile {
  /** Relative to the root, forward slashes. */
  path: string;
  absPath: string;
  bytes: Buffer;
  /** Text as given to ts-morph: no BOM, original line breaks. */
  text: string;
  style: TextStyle;
  mode: number;
  sourceFile: SourceFile | PythonSourceFile;
  /** First syntax error, as "line:column: message", when the file does not parse. */
  syntaxError?: string;
}

export interface LoadedTarget {
  project: Project;
  /** The Python modules among `files`. */
  pythonFiles: PythonSourceFile[];
  files: Map<string, LoadedFile>;
  findings: Finding[];
  /** settings.entry normalised to a relative path with forward slashes. */
  settings: MigrationSettings;
}

/** Counts a long run reports as it goes (see src/cli/progress.ts). */
export interface LoadProgress {
  read?(count: number, total: number): void;
  parsed?(count: number): void;
}

/**
 * Reads every source file of the target once, picks by text the files worth parsing (see
 * candidates.ts) and parses only those, into one ts-morph Project (Python modules with
 * tree-sitter). Type checking later covers those files alone.
 */
export async function loadTarget(rootDir: string, settings: MigrationSettings, progress: LoadProgress = {}, prefetch?: Prefetch): Promise<LoadedTarget> {
  const findings: Finding[] = [];
  const named = settings.entry === undefined ? undefined : await checkEntry(rootDir, settings.entry);
  const entry = named?.path;
  const prefetched = prefetch?.rootDir === rootDir ? await prefetch.take() : undefined;
  const discovered = prefetched?.discovered ?? (await discoverSourceFiles(rootDir));
  for (const link of discovered.symlinks) {
    findings.push(engineFinding(link.outOfTree ? "skipped-symlink-out-of-tree" : "skipped-symlink", link.path));
  }
  const mightMatter = relevanceTest([settings.client, settings.method]);
  // The entry the user named is read even when the listing left it out (ignored by git, say).
  const listed = named && !discovered.files.some((file) => file.path === named.path) ? [...discovered.files, named] : discovered.files;
  const read = await readSources(rootDir, listed, mightMatter, (count) => progress.read?.(count, listed.length), prefetched?.reads);
  findings.push(...read.findings);
  const chosen = filesToParse(read.sources, llmCallTest([settings.client, settings.method]), entry);
  const project = createProject(rootDir, findings);
  const files = new Map<string, LoadedFile>();
  for (const source of read.sources) {
    if (!chosen.has(source.path)) continue;
    const absPath = join(rootDir, source.path);
    const bytes = source.bytes ?? (await readFile(absPath));
    const { text, style } = decodeText(bytes);
    const sourceFile = isPythonFile(source.path) ? await loadPythonFile(absPath, text) : project.createSourceFile(absPath, text, { overwrite: true });
    files.set(source.path, { path: source.path, absPath, bytes, text, style, mode: source.mode, sourceFile });
    progress.parsed?.(files.size);
  }
  await mirrorPackageJsons(project, files.values());
  await addInstalledSdkTypes(project, rootDir, [...files.values()]);
  markSyntaxErrors(project, files);
  const pythonFiles: PythonSourceFile[] = [];
  for (const file of files.values()) {
    if (!(file.sourceFile instanceof PythonSourceFile)) continue;
    pythonFiles.push(file.sourceFile);
    file.syntaxError = file.sourceFile.syntaxError();
  }
  return { project, pythonFiles, files, findings, settings: entry === undefined ? settings : { ...settings, entry } };
}

/**
 * The transforms read `type` from the nearest package.json through the project's file system
 * (source-style.ts), so the in-memory project gets a copy of each package.json above a parsed file.
 */
async function mirrorPackageJsons(project: Project, files: Iterable<LoadedFile>): Promise<void> {
  const fileSystem = project.getFileSystem();
  const visited = new Set<string>();
  for (const file of files) {
    for (let dir = dirname(file.absPath); !visited.has(dir); dir = dirname(dir)) {
      visited.add(dir);
      const path = join(dir, "package.json");
      const text = await readFile(path, "utf8").catch(() => undefined);
      if (text !== undefined) {
        fileSystem.writeFileSync(path, text);
        break;
      }
      if (dirname(dir) === dir) break;
    }
  }
}

/** The user named the entry file: it must be a readable source file inside the folder. */
async function checkEntry(rootDir: string, entry: string): Promise<SourceEntry> {
  const absPath = resolve(rootDir, entry);
  if (!(absPath + sep).startsWith(rootDir + sep)) throw new BadInputError(entry, "--entry is outside the folder");
  const info = await lstat(absPath).catch(() => undefined);
  if (!info) throw new BadInputError(entry, "--entry: no such file");
  if (info.isSymbolicLink()) throw new BadInputError(entry, "--entry is a symlink; name the file it points to");
  if (!info.isFile()) throw new BadInputError(entry, "--entry is not a file");
  const path = toRelative(rootDir, absPath);
  if (!isSourceFile(path) && !isPythonFile(path)) throw new BadInputError(entry, "--entry is not a JavaScript, TypeScript or Python source file");
  if (info.size > MAX_SOURCE_BYTES) throw new BadInputError(entry, "--entry is larger than 1 MiB");
  if (looksBinary(await readFile(absPath))) throw new BadInputError(entry, "--entry is a binary file");
  return { path, size: info.size, mode: info.mode & 0o7777 };
}

/**
 * Type checking covers the parsed files alone: imports are not followed into the rest of the
 * tree nor into node_modules (no automatic @types either), and there is no standard library.
 * The analysis asks the checker about the project's own names (which client, which call), never
 * about a built-in type; parsing and binding the ES2022 declarations cost about 0.3 s of every
 * run, and without them `scan` and `apply` print the same bytes on every fixture and corpus tree.
 */
const ONLY_THE_PARSED_FILES = { noResolve: true, types: [], noLib: true };

/**
 * A project in memory, holding exactly the files the engine chose: it never reads the disk (a
 * file created at a path that exists on disk would otherwise be read and parsed a second time),
 * and allowJs so that JavaScript servers load. The target's tsconfig.json gives the options.
 */
function createProject(rootDir: string, findings: Finding[]): Project {
  const options = targetCompilerOptions(rootDir, findings);
  return new Project({
    useInMemoryFileSystem: true,
    compilerOptions: { ...options, ...ONLY_THE_PARSED_FILES, allowJs: true, jsx: options.jsx ?? typescript.JsxEmit.Preserve, noEmit: true },
  });
}

function targetCompilerOptions(rootDir: string, findings: Finding[]): CompilerOptions {
  const tsConfigFilePath = join(rootDir, "tsconfig.json");
  if (typescript.sys.fileExists(tsConfigFilePath)) {
    try {
      return tsConfigOptions(tsConfigFilePath);
    } catch (error) {
      findings.push(engineFinding("tsconfig-unreadable", "tsconfig.json", (error as Error).message.split("\n")[0]));
    }
  }
  return {
    target: typescript.ScriptTarget.ES2022,
    module: typescript.ModuleKind.NodeNext,
    moduleResolution: typescript.ModuleResolutionKind.NodeNext,
    esModuleInterop: true,
  };
}

/**
 * A TypeScript file's syntax errors are the parser's own, kept on its node, so no program is built
 * for them (about a tenth of a 5,000-file scan). A JavaScript file also has grammar checks of its
 * own (type annotations in a .js file, say) that only the program runs.
 */
function syntaxDiagnostics(node: ts.SourceFile, program: () => ts.Program): readonly ts.Diagnostic[] {
  if (/\.[cm]?jsx?$/i.test(node.fileName)) return program().getSyntacticDiagnostics(node);
  return (node as ts.SourceFile & { parseDiagnostics?: readonly ts.Diagnostic[] }).parseDiagnostics ?? program().getSyntacticDiagnostics(node);
}

function markSyntaxErrors(project: Project, files: Map<string, LoadedFile>): void {
  let built: ts.Program | undefined;
  const program = (): ts.Program => (built ??= project.getProgram().compilerObject);
  for (const file of files.values()) {
    const { sourceFile } = file;
    if (sourceFile instanceof PythonSourceFile) continue;
    const [first] = syntaxDiagnostics(sourceFile.compilerNode, program);
    if (!first) continue;
    const { line, character } = sourceFile.compilerNode.getLineAndCharacterOfPosition(first.start ?? 0);
    file.syntaxError = `${line + 1}:${character + 1}: ${typescript.flattenDiagnosticMessageText(first.messageText, " ")}`;
  }
}
