import { dirname, resolve } from "node:path";
import { Node, Project } from "../src/languages/typescript/ts-morph.js";
import type { SourceFile } from "ts-morph";
import { migrateTypeScriptProject } from "./index.js";

/** What jscodeshift's runner passes a transform (only the parts we use). */
interface FileInfo {
  path: string;
  source: string;
}

export interface JscodeshiftOptions {
  poolSize?: number | string;
  canary?: number | string;
  client?: string;
  method?: string;
}

/**
 * For teams that drive codemods with jscodeshift's runner: runs our transforms on one file, in a
 * ts-morph project of that file plus the local modules it imports, read from disk so that a
 * wrapper's own call (its endpoint, model) can be read (jscodeshift's own AST is not used). Only
 * the given file is changed; the runtime is not vendored here (`llm-migrate apply` does that).
 */
export default function transform(fileInfo: FileInfo, _api: unknown, options: JscodeshiftOptions = {}): string {
  const path = resolve(fileInfo.path);
  const project = new Project({ compilerOptions: { allowJs: true }, skipAddingFilesFromTsConfig: true, skipFileDependencyResolution: true });
  const file = project.createSourceFile(path, fileInfo.source, { overwrite: true });
  addLocalImports(project, file);
  migrateTypeScriptProject({
    project,
    rootDir: dirname(path),
    settings: {
      poolSize: Number(options.poolSize ?? 10),
      canaryPercent: Number(options.canary ?? 100),
      entry: file.getBaseName(),
      client: options.client,
      method: options.method,
    },
  });
  return file.getFullText();
}

/** The modules `file` imports or requires by a relative path, when they exist on disk. */
function addLocalImports(project: Project, file: SourceFile): void {
  const specifiers = [
    ...file.getImportDeclarations().map((d) => d.getModuleSpecifierValue()),
    ...file.getExportDeclarations().map((d) => d.getModuleSpecifierValue() ?? ""),
    ...file
      .getDescendants()
      .filter(Node.isCallExpression)
      .filter((call) => call.getExpression().getText() === "require")
      .map((call) => call.getArguments()[0])
      .filter(Node.isStringLiteral)
      .map((literal) => literal.getLiteralValue()),
  ];
  for (const specifier of specifiers.filter((s) => s.startsWith("."))) {
    const base = resolve(file.getDirectoryPath(), specifier).replace(/\.[cm]?js$/, "");
    for (const candidate of [".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs", "/index.ts", "/index.js"].map((ext) => base + ext)) {
      if (project.addSourceFileAtPathIfExists(candidate)) break;
    }
  }
}

/** jscodeshift picks its parser from this; ours parses TypeScript and JavaScript alike. */
export const parser = "tsx";
