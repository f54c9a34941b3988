import { Node, SyntaxKind } from "./ts-morph.js";
import type { Project, SourceFile } from "ts-morph";
import { requiredModule } from "./source-style.js";

const RESOLVABLE_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"];

/**
 * The project file a relative specifier names. Hand-written rather than asking the compiler
 * because `require()` calls and the target's own resolution settings are not always visible to it.
 */
export function resolveRelativeModule(project: Project, from: SourceFile, specifier: string): SourceFile | undefined {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return undefined;
  const base = joinPath(from.getDirectoryPath(), specifier);
  const withoutJsExtension = base.replace(/\.(c|m)?jsx?$/, "");
  const candidates = [
    base,
    ...RESOLVABLE_EXTENSIONS.map((ext) => withoutJsExtension + ext),
    ...RESOLVABLE_EXTENSIONS.map((ext) => `${base}/index${ext}`),
  ];
  for (const candidate of candidates) {
    const file = project.getSourceFile(candidate);
    if (file) return file;
  }
  return undefined;
}

function joinPath(dir: string, specifier: string): string {
  const parts = dir.split("/");
  for (const part of specifier.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== "." && part !== "") parts.push(part);
  }
  return parts.join("/") || "/";
}

/** "=" stands for the whole CommonJS module (`module.exports = x`). */
export type ExportName = string;

/**
 * Names under which a module exports a module-level binding: `export const`, `export { a as b }`,
 * `export default a`, `module.exports = { b: a }`, `module.exports = a`, `exports.b = a`.
 */
export function exportNamesOf(sourceFile: SourceFile, localName: string, declaration: Node): ExportName[] {
  const names: ExportName[] = [];
  const statement = Node.isVariableDeclaration(declaration) ? declaration.getVariableStatement() : declaration;
  if (statement && Node.isExportable(statement) && statement.hasExportKeyword()) {
    names.push(Node.isExportGetable(statement) && statement.isDefaultExport() ? "default" : localName);
  }
  for (const exportDeclaration of sourceFile.getExportDeclarations()) {
    if (exportDeclaration.getModuleSpecifier()) continue;
    for (const specifier of exportDeclaration.getNamedExports()) {
      if (specifier.getName() === localName) names.push(specifier.getAliasNode()?.getText() ?? localName);
    }
  }
  for (const assignment of sourceFile.getExportAssignments()) {
    if (assignment.getExpression().getText() === localName) names.push(assignment.isExportEquals() ? "=" : "default");
  }
  for (const binary of sourceFile.getDescendantsOfKind(SyntaxKind.BinaryExpression)) {
    if (binary.getOperatorToken().getKind() !== SyntaxKind.EqualsToken) continue;
    const left = binary.getLeft().getText().replace(/\s/g, "");
    const right = binary.getRight();
    if (left === "module.exports") {
      if (right.getText() === localName) names.push("=");
      if (Node.isObjectLiteralExpression(right)) {
        for (const property of right.getProperties()) {
          if (Node.isShorthandPropertyAssignment(property) && property.getName() === localName) names.push(localName);
          if (Node.isPropertyAssignment(property) && property.getInitializer()?.getText() === localName) {
            names.push(property.getName());
          }
        }
      }
    }
    const member = /^(?:module\.)?exports\.(\w+)$/.exec(left)?.[1];
    if (member && right.getText() === localName) names.push(member);
  }
  return names;
}

/** How another file binds something a module exports. */
export interface ImportedBinding {
  /** The declaration of the local name: ImportSpecifier, ImportClause, BindingElement or VariableDeclaration. */
  declaration: Node;
  /** Set when the local name is the whole module object and the thing is one of its members. */
  member?: string;
}

/** Local bindings, in `importer`, of the given export names of `exporter` (ESM imports and `require`). */
export function importedBindings(
  project: Project,
  importer: SourceFile,
  exporter: SourceFile,
  names: readonly ExportName[],
): ImportedBinding[] {
  const bindings: ImportedBinding[] = [];
  const wholeModule = names.includes("=");
  for (const declaration of importer.getImportDeclarations()) {
    if (resolveRelativeModule(project, importer, declaration.getModuleSpecifierValue()) !== exporter) continue;
    const clause = declaration.getImportClause();
    if (!clause) continue;
    if (declaration.getDefaultImport() && (names.includes("default") || wholeModule)) bindings.push({ declaration: clause });
    for (const specifier of declaration.getNamedImports()) {
      if (names.includes(specifier.getName())) bindings.push({ declaration: specifier });
    }
    const namespace = declaration.getNamespaceImport();
    if (namespace) {
      for (const name of names) if (name !== "=") bindings.push({ declaration: namespace.getParentOrThrow(), member: name });
    }
  }
  for (const variable of importer.getDescendantsOfKind(SyntaxKind.VariableDeclaration)) {
    const initializer = variable.getInitializer();
    if (!initializer) continue;
    const direct = requiredModule(initializer);
    // `const client = require("./llm").client`
    const viaMember =
      Node.isPropertyAccessExpression(initializer) ? requiredModule(initializer.getExpression()) : undefined;
    const specifier = direct ?? viaMember;
    if (!specifier || resolveRelativeModule(project, importer, specifier) !== exporter) continue;
    const nameNode = variable.getNameNode();
    if (viaMember !== undefined) {
      if (Node.isPropertyAccessExpression(initializer) && names.includes(initializer.getName())) {
        bindings.push({ declaration: variable });
      }
    } else if (Node.isIdentifier(nameNode)) {
      if (wholeModule) bindings.push({ declaration: variable });
      else for (const name of names) bindings.push({ declaration: variable, member: name });
    } else if (Node.isObjectBindingPattern(nameNode)) {
      for (const element of nameNode.getElements()) {
        const imported = element.getPropertyNameNode()?.getText() ?? element.getName();
        if (names.includes(imported)) bindings.push({ declaration: element });
      }
    }
  }
  return bindings;
}

/**
 * Every module that exports the thing `exporter` exports as `names`, with the names it uses:
 * `exporter` itself, then index files that re-export it (`export { openai } from "./openai.js"`,
 * `export * from "./openai.js"`), followed through any number of hops.
 */
export function reExportersOf(
  project: Project,
  files: readonly SourceFile[],
  exporter: SourceFile,
  names: readonly ExportName[],
): Map<SourceFile, ExportName[]> {
  const found = new Map<SourceFile, ExportName[]>([[exporter, [...names]]]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const file of files) {
      if (found.has(file)) continue;
      const exported: ExportName[] = [];
      for (const declaration of file.getExportDeclarations()) {
        const specifier = declaration.getModuleSpecifierValue();
        const from = specifier === undefined ? undefined : resolveRelativeModule(project, file, specifier);
        const source = from && found.get(from);
        if (!source) continue;
        if (!declaration.hasNamedExports() && !declaration.getNamespaceExport()) {
          exported.push(...source.filter((name) => name !== "default" && name !== "="));
        }
        for (const named of declaration.getNamedExports()) {
          if (source.includes(named.getName())) exported.push(named.getAliasNode()?.getText() ?? named.getName());
        }
      }
      // CommonJS: `module.exports = require("./openai")`
      for (const binary of file.getDescendantsOfKind(SyntaxKind.BinaryExpression)) {
        if (binary.getLeft().getText().replace(/\s/g, "") !== "module.exports") continue;
        const specifier = requiredModule(binary.getRight());
        const from = specifier === undefined ? undefined : resolveRelativeModule(project, file, specifier);
        const source = from && found.get(from);
        if (source) exported.push(...source);
      }
      if (exported.length) {
        found.set(file, exported);
        grew = true;
      }
    }
  }
  return found;
}
