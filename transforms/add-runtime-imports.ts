import { posix } from "node:path";
import { Node } from "../src/languages/typescript/ts-morph.js";
import type { SourceFile, Statement } from "ts-morph";
import { detectExtensionless, detectStyle, endOfStatementLine } from "../src/languages/typescript/source-style.js";
import { EditPlan, RUNTIME_FOLDER, RUNTIME_NAMES, type MigrationContext, type RuntimeName } from "./context.js";
import { lastImport } from "./start-async-client.js";

/**
 * One import of the runtime in every file the transforms changed, naming what that file uses.
 * Not a transform of its own: whichever transforms run, the code they write needs it.
 */
export function addRuntimeImports(context: MigrationContext): void {
  const plan = new EditPlan();
  const files = context.input.project.getSourceFiles();
  const extensionless = projectExtensionless(files);
  for (const [path, names] of context.runtimeImports) {
    const file = files.find((f) => f.getFilePath() === path);
    if (!file) continue;
    const wanted = RUNTIME_NAMES.filter((name) => names.has(name));
    const existing = file.getImportDeclarations().find((d) => d.getModuleSpecifierValue().includes(RUNTIME_FOLDER));
    if (existing) {
      // A partly migrated file: complete its import rather than adding a second one.
      const present = new Set(existing.getNamedImports().map((n) => n.getName()));
      const missing = wanted.filter((name) => !present.has(name));
      if (missing.length) existing.addNamedImports(missing);
      continue;
    }
    const statement = importStatement(file, context.runtimeDir, wanted, extensionless);
    const last = lastModuleImport(file);
    if (last) plan.insert(file, endOfStatementLine(file, last.getEnd()), `\n${statement}`);
    else plan.insert(file, file.getStatements()[0]?.getStart() ?? 0, `${statement}\n\n`);
  }
  plan.apply();
}

/**
 * The last import among the leading ones; unlike the client's start-up spot, this passes over
 * set-up calls such as `dotenv.config()`, so the new import sits with the other imports.
 */
function lastModuleImport(file: SourceFile): Statement | undefined {
  const leading = lastImport(file);
  if (!leading) return undefined;
  const statements = file.getStatements();
  const upTo = statements.indexOf(leading);
  return statements
    .slice(0, upTo + 1)
    .reverse()
    .find((statement) => !Node.isExpressionStatement(statement));
}

/**
 * One specifier style for the runtime in the whole project, as most of its files write their own
 * relative imports: a file with none of its own follows the others, instead of getting `/index.js`
 * where its neighbours import `./llm-runtime`.
 */
function projectExtensionless(files: readonly SourceFile[]): boolean {
  let without = 0;
  let withExtension = 0;
  for (const file of files) {
    if (/\/(node_modules|llm-runtime)\//.test(file.getFilePath())) continue;
    const extensionless = detectExtensionless(file);
    if (extensionless === true) without++;
    else if (extensionless === false) withExtension++;
  }
  return without > withExtension;
}

function importStatement(file: SourceFile, runtimeDir: string, names: readonly RuntimeName[], extensionless: boolean): string {
  const style = detectStyle(file);
  let specifier = posix.relative(file.getDirectoryPath(), runtimeDir);
  if (!specifier.startsWith(".")) specifier = `./${specifier}`;
  if (!extensionless) specifier += "/index.js";
  const q = style.quote;
  const end = style.semicolons ? ";" : "";
  const list = names.join(", ");
  return style.module === "esm"
    ? `import { ${list} } from ${q}${specifier}${q}${end}`
    : `const { ${list} } = require(${q}${specifier}${q})${end}`;
}
