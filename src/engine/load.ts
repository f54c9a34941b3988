import { lstat, readFile, stat } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { Project, ts, type SourceFile } from "ts-morph";
import type { Finding, MigrationSettings } from "../../transforms/types.js";
import { PythonSourceFile } from "../languages/python/parse.js";
import { discoverSourceFiles, isSourceFile, toRelative } from "./discover.js";
import { BadInputError } from "./errors.js";
import { engineFinding } from "./findings.js";
import { isPythonFile, loadPythonFile } from "./languages.js";
import { MAX_SOURCE_BYTES, relevanceTest } from "./relevance.js";
import { decodeText, looksBinary, type TextStyle } from "./text.js";

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

/** Loads every candidate file of the target into one ts-morph Project, reading each file once. */
export async function loadTarget(rootDir: string, settings: MigrationSettings): Promise<LoadedTarget> {
  const findings: Finding[] = [];
  const entry = settings.entry === undefined ? undefined : await checkEntry(rootDir, settings.entry);
  const discovered = await discoverSourceFiles(rootDir);
  for (const link of discovered.symlinks) {
    findings.push(engineFinding(link.outOfTree ? "skipped-symlink-out-of-tree" : "skipped-symlink", link.path));
  }
  const project = createProject(rootDir, findings);
  const mightMatter = relevanceTest([settings.client, settings.method]);
  const files = new Map<string, LoadedFile>();
  const paths = entry && !discovered.files.includes(entry) ? [...discovered.files, entry] : discovered.files;
  for (const path of paths) {
    const absPath = join(rootDir, path);
    const info = await stat(absPath);
    if (info.size > MAX_SOURCE_BYTES) {
      findings.push(engineFinding("skipped-large-file", path));
      continue;
    }
    const bytes = await readFile(absPath);
    if (looksBinary(bytes)) {
      findings.push(engineFinding("skipped-binary-file", path));
      continue;
    }
    const { text, style } = decodeText(bytes);
    if (path !== entry && !mightMatter(text)) continue;
    const sourceFile = isPythonFile(path) ? await loadPythonFile(absPath, text) : project.createSourceFile(absPath, text, { overwrite: true });
    files.set(path, { path, absPath, bytes, text, style, mode: info.mode & 0o7777, sourceFile });
  }
  markSyntaxErrors(project, files);
  const pythonFiles: PythonSourceFile[] = [];
  for (const file of files.values()) {
    if (!(file.sourceFile instanceof PythonSourceFile)) continue;
    pythonFiles.push(file.sourceFile);
    file.syntaxError = file.sourceFile.syntaxError();
  }
  return { project, pythonFiles, files, findings, settings: entry === undefined ? settings : { ...settings, entry } };
}

/** The user named the entry file: it must be a readable source file inside the folder. */
async function checkEntry(rootDir: string, entry: string): Promise<string> {
  const absPath = resolve(rootDir, entry);
  if (!(absPath + sep).startsWith(rootDir + sep)) throw new BadInputError(entry, "--entry is outside the folder");
  const info = await lstat(absPath).catch(() => undefined);
  if (!info) throw new BadInputError(entry, "--entry: no such file");
  if (info.isSymbolicLink()) throw new BadInputError(entry, "--entry is a symlink; name the file it points to");
  if (!info.isFile()) throw new BadInputError(entry, "--entry is not a file");
  const path = toRelative(rootDir, absPath);
  if (!isSourceFile(path)) throw new BadInputError(entry, "--entry is not a JavaScript or TypeScript source file");
  if (info.size > MAX_SOURCE_BYTES) throw new BadInputError(entry, "--entry is larger than 1 MiB");
  if (looksBinary(await readFile(absPath))) throw new BadInputError(entry, "--entry is a binary file");
  return path;
}

function createProject(rootDir: string, findings: Finding[]): Project {
  // allowJs so JavaScript servers load; dependencies are not followed: the engine hands the
  // transforms exactly the files it read.
  const common = {
    skipAddingFilesFromTsConfig: true,
    skipFileDependencyResolution: true,
  };
  const tsConfigFilePath = join(rootDir, "tsconfig.json");
  if (ts.sys.fileExists(tsConfigFilePath)) {
    try {
      const project = new Project({ ...common, tsConfigFilePath });
      const options = project.compilerOptions.get();
      project.compilerOptions.set({ allowJs: true, jsx: options.jsx ?? ts.JsxEmit.Preserve, noEmit: true });
      return project;
    } catch (error) {
      findings.push(engineFinding("tsconfig-unreadable", "tsconfig.json", (error as Error).message.split("\n")[0]));
    }
  }
  return new Project({
    ...common,
    compilerOptions: {
      allowJs: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      jsx: ts.JsxEmit.Preserve,
      esModuleInterop: true,
      noEmit: true,
    },
  });
}

function markSyntaxErrors(project: Project, files: Map<string, LoadedFile>): void {
  if (files.size === 0) return;
  const program = project.getProgram().compilerObject;
  for (const file of files.values()) {
    const { sourceFile } = file;
    if (sourceFile instanceof PythonSourceFile) continue;
    const [first] = program.getSyntacticDiagnostics(sourceFile.compilerNode);
    if (!first) continue;
    const { line, character } = sourceFile.compilerNode.getLineAndCharacterOfPosition(first.start ?? 0);
    file.syntaxError = `${line + 1}:${character + 1}: ${ts.flattenDiagnosticMessageText(first.messageText, " ")}`;
  }
}
