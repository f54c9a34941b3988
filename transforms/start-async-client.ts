import { Node, SyntaxKind } from "../src/languages/typescript/ts-morph.js";
import type { SourceFile, Statement } from "ts-morph";
import { detectStyle, endOfStatementLine, requiredModule } from "../src/languages/typescript/source-style.js";
import type { MigrationContext, Transform } from "./context.js";

export const startAsyncClient: Transform = {
  name: "start-async-client",
  description:
    "Creates the one process-wide async client in the entry file, right after the imports, with the pool size and canary share as defaults (and, for Nest, registers the LLM error filter on the app).",
  run(context) {
    const { entryFile: found, calls, framework, files } = context.analyse();
    if (!calls.some((call) => !call.perRequestCredential)) return;
    const entryFile = found ?? startupFile(context, files);
    if (!entryFile) return;
    const { plan } = context;
    if (!startsAsyncClient(entryFile)) {
      const { poolSize, canaryPercent } = context.input.settings;
      const end = detectStyle(entryFile).semicolons ? ";" : "";
      const statement = [
        "// llm-migrate: one process-wide, semaphore-gated LLM client. These are defaults:",
        "// LLM_POOL_SIZE and LLM_CANARY_PERCENT override them (see llm-runtime/README.md).",
        `getAsyncLlmClient({ poolSize: ${poolSize}, canaryPercent: ${canaryPercent} })${end}`,
      ].join("\n");
      const last = loadsSettingsLast(entryFile) ?? lastImport(entryFile);
      if (last) plan.insert(entryFile, endOfStatementLine(entryFile, last.getEnd()), `\n\n${statement}`);
      else plan.insert(entryFile, firstStatementStart(entryFile), `${statement}\n\n`);
      context.needsRuntime(entryFile, "getAsyncLlmClient");
    }
    // Frameworks whose handlers cannot be wrapped map the runtime's errors where the app is made.
    const setup = framework?.serverSetup?.(entryFile);
    if (setup) {
      plan.insert(setup.file, setup.pos, setup.text);
      context.needsRuntime(setup.file, ...setup.names);
    }
  },
};

/** The framework's own start-up file (Nitro's plugin), made when the project has no entry file. */
function startupFile(context: MigrationContext, files: readonly SourceFile[]): SourceFile | undefined {
  const { framework } = context.analyse();
  const made = framework?.startupFile?.(files);
  if (!made) return undefined;
  return context.input.project.getSourceFile(made.path) ?? context.input.project.createSourceFile(made.path, made.text);
}

function startsAsyncClient(file: SourceFile): boolean {
  return file.getStatements().some((s) => /^getAsyncLlmClient\s*\(\s*\{/.test(s.getText()));
}

/**
 * The last statement of the file's leading imports: `import …`, `const x = require(…)`, and
 * `require("dotenv").config()`-style set-up, so the settings it loads are there when the client starts.
 */
export function lastImport(file: SourceFile): Statement | undefined {
  let last: Statement | undefined;
  for (const statement of file.getStatements()) {
    if (isImportLike(statement)) last = statement;
    else if (!isDirective(statement)) break;
  }
  return last;
}

/**
 * A top-level `dotenv.config()` (or `config()` imported from dotenv) after the imports: the client
 * reads LLM_POOL_SIZE when it starts, so it must start after `.env` is loaded.
 */
function loadsSettingsLast(file: SourceFile): Statement | undefined {
  const usesDotenv = [...file.getImportDeclarations().map((d) => d.getModuleSpecifierValue()), ...requiredModules(file)].some((m) => m === "dotenv");
  if (!usesDotenv) return undefined;
  const imports = lastImport(file);
  const after = imports ? file.getStatements().slice(imports.getChildIndex() + 1) : file.getStatements();
  return after.filter((s) => Node.isExpressionStatement(s) && /^(\w+\.)?config\s*\(|\bdotenv\b[\s\S]*\.config\s*\(/.test(s.getText())).at(-1);
}

function requiredModules(file: SourceFile): string[] {
  return file.getDescendantsOfKind(SyntaxKind.CallExpression).flatMap((call) => requiredModule(call) ?? []);
}

function isImportLike(statement: Statement): boolean {
  if (Node.isImportDeclaration(statement) || Node.isImportEqualsDeclaration(statement)) return true;
  const requires = statement.getDescendantsOfKind(SyntaxKind.CallExpression).some((call) => requiredModule(call) !== undefined);
  if (Node.isVariableStatement(statement)) return requires;
  if (Node.isExpressionStatement(statement)) return requires || /^\w+\.config\(/.test(statement.getText());
  return false;
}

function isDirective(statement: Statement): boolean {
  return Node.isExpressionStatement(statement) && Node.isStringLiteral(statement.getExpression());
}

function firstStatementStart(file: SourceFile): number {
  const statements = file.getStatements();
  const firstCode = statements.find((s) => !isDirective(s));
  return firstCode?.getStart() ?? file.getEnd();
}
