// The indexed descendant search answers exactly what ts-morph's own walk answers, on every fixture.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { Node, Project, SyntaxKind } from "ts-morph";
import { describe, expect, it } from "vitest";
import { indexDescendantSearches } from "../../src/languages/typescript/descendant-index.js";
import { repoRoot } from "./helpers.js";

const KINDS = [
  SyntaxKind.CallExpression,
  SyntaxKind.NewExpression,
  SyntaxKind.PropertyAccessExpression,
  SyntaxKind.BinaryExpression,
  SyntaxKind.VariableDeclaration,
  SyntaxKind.ReturnStatement,
  SyntaxKind.BindingElement,
  SyntaxKind.StringLiteral,
  SyntaxKind.Identifier,
];

function fixtureSources(): string[] {
  const root = join(repoRoot, "fixtures");
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(ts|js|cjs|mjs)$/.test(entry.name) && !entry.name.endsWith(".d.ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe("indexed descendant search", () => {
  it("lists the same nodes, in the same order, as ts-morph's walk (JSDoc aside)", () => {
    const project = new Project({ useInMemoryFileSystem: true, compilerOptions: { allowJs: true } });
    const files = fixtureSources().map((path) => project.createSourceFile(`/${relative(repoRoot, path)}`, readFileSync(path, "utf8")));
    const original = Node.prototype.getDescendantsOfKind;
    indexDescendantSearches();
    let compared = 0;
    for (const file of files) {
      const scopes: Node[] = [file];
      file.forEachDescendant((node) => {
        if (Node.isBlock(node) || Node.isCallExpression(node) || Node.isExpressionStatement(node) || Node.isClassDeclaration(node)) scopes.push(node);
      });
      for (const scope of scopes) {
        for (const kind of KINDS) {
          const expected = original.call(scope, kind).filter((node) => !node.getFirstAncestor(Node.isJSDoc));
          expect(scope.getDescendantsOfKind(kind), `${file.getFilePath()}:${scope.getStartLineNumber()} ${scope.getKindName()} ${SyntaxKind[kind]}`).toEqual(expected);
          expect(scope.getFirstDescendantByKind(kind)).toBe(expected[0]);
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it("answers from the new text after an edit", () => {
    indexDescendantSearches();
    const project = new Project({ useInMemoryFileSystem: true });
    const file = project.createSourceFile("/a.ts", "f(1);\n");
    expect(file.getDescendantsOfKind(SyntaxKind.CallExpression).map((call) => call.getText())).toEqual(["f(1)"]);
    file.insertText(6, "g(h(2));\n");
    expect(file.getDescendantsOfKind(SyntaxKind.CallExpression).map((call) => call.getText())).toEqual(["f(1)", "g(h(2))", "h(2)"]);
  });
});
