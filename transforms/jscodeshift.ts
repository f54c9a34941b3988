import { posix } from "node:path";
import { Project } from "ts-morph";
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
 * For teams that drive codemods with jscodeshift's runner: runs our transforms on one file, in an
 * in-memory ts-morph project (jscodeshift's own AST is not used). The file must hold the shared
 * client; the runtime is not vendored here (`llm-migrate apply` does that).
 */
export default function transform(fileInfo: FileInfo, _api: unknown, options: JscodeshiftOptions = {}): string {
  const path = posix.resolve("/", fileInfo.path.split("\\").join("/"));
  const project = new Project({ useInMemoryFileSystem: true, compilerOptions: { allowJs: true } });
  const file = project.createSourceFile(path, fileInfo.source);
  migrateTypeScriptProject({
    project,
    rootDir: posix.dirname(path),
    settings: {
      poolSize: Number(options.poolSize ?? 10),
      canaryPercent: Number(options.canary ?? 100),
      entry: posix.basename(path),
      client: options.client,
      method: options.method,
    },
  });
  return file.getFullText();
}

/** jscodeshift picks its parser from this; ours parses TypeScript and JavaScript alike. */
export const parser = "tsx";
