import { Node, SyntaxKind } from "./ts-morph.js";
import type { SourceFile } from "ts-morph";

/** How a file is written, so that inserted code looks like its neighbours. */
export interface SourceStyle {
  quote: '"' | "'";
  /** One level of indentation: "\t" or some spaces. */
  indent: string;
  semicolons: boolean;
  /** How the file imports: ESM `import` or CommonJS `require`. */
  module: "esm" | "cjs";
  /** Whether the file's own relative imports leave out the extension; undefined when it has none. */
  extensionless?: boolean;
}

const TS_EXTENSIONS = /\.(ts|tsx|mts|cts)$/;

export function isTypeScriptFile(sourceFile: SourceFile): boolean {
  return TS_EXTENSIONS.test(sourceFile.getFilePath()) && !sourceFile.isDeclarationFile();
}

export function detectStyle(sourceFile: SourceFile): SourceStyle {
  return {
    quote: detectQuote(sourceFile),
    indent: detectIndent(sourceFile.getFullText()),
    semicolons: detectSemicolons(sourceFile),
    module: detectModuleSystem(sourceFile),
    extensionless: detectExtensionless(sourceFile),
  };
}

/** Module specifiers of every `import`, `export … from` and `require("…")` in the file. */
export function moduleSpecifiers(sourceFile: SourceFile): string[] {
  const specifiers: string[] = [];
  for (const declaration of sourceFile.getImportDeclarations()) specifiers.push(declaration.getModuleSpecifierValue());
  for (const declaration of sourceFile.getExportDeclarations()) {
    const value = declaration.getModuleSpecifierValue();
    if (value) specifiers.push(value);
  }
  for (const call of sourceFile.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    const value = requiredModule(call);
    if (value) specifiers.push(value);
  }
  return specifiers;
}

/** The module named by `require("x")`, or undefined when the node is not such a call. */
export function requiredModule(node: Node): string | undefined {
  if (!Node.isCallExpression(node)) return undefined;
  const callee = node.getExpression();
  const [first] = node.getArguments();
  if (!Node.isIdentifier(callee) || callee.getText() !== "require" || !first) return undefined;
  return Node.isStringLiteral(first) || Node.isNoSubstitutionTemplateLiteral(first) ? first.getLiteralText() : undefined;
}

function detectQuote(sourceFile: SourceFile): '"' | "'" {
  // Import specifiers say the most about a file's preference; other strings break ties.
  const specifierQuotes = [
    ...sourceFile.getImportDeclarations().map((d) => d.getModuleSpecifier().getText()[0]),
    ...sourceFile
      .getDescendantsOfKind(SyntaxKind.CallExpression)
      .filter((call) => requiredModule(call) !== undefined)
      .map((call) => call.getArguments()[0]!.getText()[0]),
  ];
  const quotes = specifierQuotes.length
    ? specifierQuotes
    : sourceFile.getDescendantsOfKind(SyntaxKind.StringLiteral).map((s) => s.getText()[0]);
  const single = quotes.filter((q) => q === "'").length;
  return single > quotes.length - single ? "'" : '"';
}

function detectIndent(text: string): string {
  let smallest = Infinity;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith("\t")) return "\t";
    const spaces = /^( +)\S/.exec(line)?.[1]?.length;
    // " * …" lines continue block comments and say nothing about indentation.
    if (spaces && !line.trimStart().startsWith("*")) smallest = Math.min(smallest, spaces);
  }
  return " ".repeat(Number.isFinite(smallest) ? smallest : 2);
}

function detectSemicolons(sourceFile: SourceFile): boolean {
  const statements = sourceFile
    .getStatements()
    .filter((s) => Node.isExpressionStatement(s) || Node.isVariableStatement(s) || Node.isImportDeclaration(s));
  if (statements.length === 0) return true;
  const withSemicolon = statements.filter((s) => s.getText().endsWith(";")).length;
  return withSemicolon * 2 >= statements.length;
}

function detectModuleSystem(sourceFile: SourceFile): "esm" | "cjs" {
  const path = sourceFile.getFilePath();
  if (/\.(mjs|mts)$/.test(path)) return "esm";
  if (/\.(cjs|cts)$/.test(path)) return "cjs";
  if (sourceFile.getImportDeclarations().length > 0 || sourceFile.getExportDeclarations().length > 0) return "esm";
  // `export async function routes(fastify) {…}` with no import: ESM all the same.
  if (sourceFile.getExportAssignments().length > 0 || sourceFile.getStatements().some((s) => Node.isExportable(s) && s.hasExportKeyword())) return "esm";
  if (isTypeScriptFile(sourceFile)) return "esm";
  const usesRequire = sourceFile
    .getDescendantsOfKind(SyntaxKind.CallExpression)
    .some((call) => requiredModule(call) !== undefined);
  const usesModuleExports = /\bmodule\.exports\b|\bexports\.\w+\s*=/.test(sourceFile.getFullText());
  if (usesRequire || usesModuleExports) return "cjs";
  return packageType(sourceFile) === "module" ? "esm" : "cjs";
}

export function detectExtensionless(sourceFile: SourceFile): boolean | undefined {
  const relative = moduleSpecifiers(sourceFile).filter((s) => s.startsWith("./") || s.startsWith("../"));
  if (relative.length === 0) return undefined;
  return !relative.some((s) => /\.(c|m)?(j|t)sx?$|\.json$/.test(s));
}

/**
 * The `type` field of the nearest package.json, read through the project's own file system
 * (the engine may hand us an in-memory one).
 */
export function packageType(sourceFile: SourceFile): string | undefined {
  const fs = sourceFile.getProject().getFileSystem();
  let dir: string = sourceFile.getDirectoryPath();
  for (;;) {
    const candidate = `${dir}/package.json`;
    try {
      if (fs.fileExistsSync(candidate)) {
        const type = (JSON.parse(fs.readFileSync(candidate)) as { type?: unknown }).type;
        return typeof type === "string" ? type : undefined;
      }
    } catch {
      return undefined;
    }
    const parent = dir.replace(/\/[^/]*$/, "");
    if (!parent || parent === dir) return undefined;
    dir = parent;
  }
}

/** Leading whitespace of the line that holds `pos`. */
export function indentationAt(sourceFile: SourceFile, pos: number): string {
  const text = sourceFile.getFullText();
  const lineStart = text.lastIndexOf("\n", pos - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

/** Position of the start of the line that holds `pos`. */
export function lineStartOf(sourceFile: SourceFile, pos: number): number {
  return sourceFile.getFullText().lastIndexOf("\n", pos - 1) + 1;
}

/**
 * Where text inserted after the statement ending at `end` goes: after a comment that trails the
 * statement on its line (`dotenv.config(); // from .env`), so that the comment stays with it.
 */
export function endOfStatementLine(sourceFile: SourceFile, end: number): number {
  const text = sourceFile.getFullText();
  const trailing = /^[ \t]*(\/\/[^\n]*|\/\*[^\n]*?\*\/[ \t]*)(?=\r?\n|$)/.exec(text.slice(end));
  return trailing ? end + trailing[0].length : end;
}
