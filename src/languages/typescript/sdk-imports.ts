import { Node, SyntaxKind } from "./ts-morph.js";
import type { Identifier } from "ts-morph";
import { sdkRows, type SdkRow } from "../sdks.js";
import { mayBeDeclaredAs } from "./name-test.js";
import { requiredModule } from "./source-style.js";

/** Where a name comes from: the package and the export it names ("default", "*" for the whole module). */
export interface PackageExport {
  module: string;
  exportName: string;
}

const TS_ROWS = sdkRows("typescript");

/**
 * The package export a name refers to: `import OpenAI from "openai"`, `import { Mistral } from …`,
 * `import * as genai from …` (then `genai.GoogleGenAI`), `const OpenAI = require("openai")`,
 * `const { OpenAI } = require("openai")`, `require("openai").OpenAI`.
 */
export function packageExportOf(reference: Node): PackageExport | undefined {
  if (Node.isPropertyAccessExpression(reference)) {
    const object = reference.getExpression();
    const fromRequire = requiredModule(object);
    if (fromRequire !== undefined) return { module: fromRequire, exportName: reference.getName() };
    if (!Node.isIdentifier(object)) return undefined;
    const whole = packageExportOf(object);
    return whole && (whole.exportName === "*" || whole.exportName === "default") ? { module: whole.module, exportName: reference.getName() } : undefined;
  }
  if (!Node.isIdentifier(reference) || !mayBeDeclaredAs(reference, IMPORTING_KINDS)) return undefined;
  for (const declaration of (reference as Identifier).getSymbol()?.getDeclarations() ?? []) {
    if (Node.isImportClause(declaration)) return fromImport(declaration, "default");
    if (Node.isNamespaceImport(declaration)) return fromImport(declaration, "*");
    if (Node.isImportSpecifier(declaration)) return fromImport(declaration, declaration.getName());
    if (Node.isImportEqualsDeclaration(declaration)) {
      const specifier = declaration.getModuleReference().getText().match(/^require\(\s*["'](.+)["']\s*\)$/)?.[1];
      if (specifier) return { module: specifier, exportName: "*" };
    }
    if (Node.isVariableDeclaration(declaration)) {
      const initializer = declaration.getInitializer();
      const module = initializer && requiredModule(initializer);
      if (module !== undefined) return { module, exportName: "*" };
      if (Node.isPropertyAccessExpression(initializer)) return packageExportOf(initializer);
    }
    if (Node.isBindingElement(declaration)) {
      const initializer = declaration.getFirstAncestorByKind(SyntaxKind.VariableDeclaration)?.getInitializer();
      const module = initializer && requiredModule(initializer);
      if (module !== undefined) return { module, exportName: declaration.getPropertyNameNode()?.getText() ?? declaration.getName() };
    }
  }
  return undefined;
}

/** Kinds of declaration `packageExportOf` follows; each binds the identifier in its `name`. */
const IMPORTING_KINDS = [
  SyntaxKind.ImportClause,
  SyntaxKind.NamespaceImport,
  SyntaxKind.ImportSpecifier,
  SyntaxKind.ImportEqualsDeclaration,
  SyntaxKind.VariableDeclaration,
  SyntaxKind.BindingElement,
];

function fromImport(node: Node, exportName: string): PackageExport | undefined {
  const declaration = node.getFirstAncestor(Node.isImportDeclaration);
  return declaration ? { module: declaration.getModuleSpecifierValue(), exportName } : undefined;
}

/** The package a specifier names: `@google/genai/node` → `@google/genai`, `openai/index.mjs` → `openai`. */
export function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** The SDK row whose client class `new X()` builds, when X comes from one of the SDK packages. */
export function sdkRowOfClass(reference: Node, name: string): SdkRow | undefined {
  const from = packageExportOf(reference);
  if (from) {
    const pkg = packageName(from.module);
    // `const OpenAI = require("openai")` is the class itself (the CommonJS export is the class).
    const exported = from.exportName === "*" || from.exportName === "default" ? name : from.exportName;
    const rows = TS_ROWS.filter((row) => row.packages.includes(pkg));
    const named = rows.find((row) => row.clientClasses.includes(exported));
    // A renamed default import (`import AI from "openai"`) is the package's main client.
    const main = from.exportName === "default" || from.exportName === "*" ? rows.find((row) => row.clientClasses.length > 0) : undefined;
    return named ?? main;
  }
  // A class we cannot trace to an import (a global, a re-export of the project's own): OpenAI's names only, as before.
  return TS_ROWS.find((row) => row.id.startsWith("openai") && row.clientClasses.includes(name));
}

/** The SDK row whose ready-made client an import is (`import ollama from "ollama"`). */
export function sdkRowOfExportedClient(reference: Node): SdkRow | undefined {
  const from = packageExportOf(reference);
  if (!from) return undefined;
  const pkg = packageName(from.module);
  const exportName = from.exportName === "*" ? "default" : from.exportName;
  return TS_ROWS.find((row) => row.packages.includes(pkg) && row.clientExports?.includes(exportName));
}

/** The row and function name of a free function call's callee (`generateText` from "ai", even renamed). */
export function sdkFreeFunction(callee: Node): { row: SdkRow; name: string } | undefined {
  const from = packageExportOf(callee);
  if (!from) return undefined;
  const pkg = packageName(from.module);
  const row = TS_ROWS.find((r) => r.freeFunctions && r.packages.includes(pkg));
  if (!row) return undefined;
  return row.calls.some((call) => call.path === from.exportName) ? { row, name: from.exportName } : undefined;
}
