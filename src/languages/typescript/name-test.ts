import { typescript } from "./ts-morph.js";
import type { ts, Identifier, SyntaxKind } from "ts-morph";
import { compilerNodesOfKind } from "./descendant-index.js";

const namesByFile = new WeakMap<ts.SourceFile, Map<string, Set<string>>>();

/**
 * A test by text before asking the type checker what an identifier refers to, which detection
 * would otherwise do for nearly every call: in a module, an identifier can only resolve to a
 * declaration of its own file (an import is one too) or to a global. So when no declaration of
 * these kinds in the file has the identifier's name, the checker would find none of them either.
 * A script shares its scope with the other scripts, so there the answer is always "maybe".
 */
export function mayBeDeclaredAs(identifier: Identifier, kinds: readonly SyntaxKind[]): boolean {
  const sourceFile = identifier.getSourceFile().compilerNode;
  if (!typescript.isExternalModule(sourceFile)) return true;
  let byKinds = namesByFile.get(sourceFile);
  if (!byKinds) namesByFile.set(sourceFile, (byKinds = new Map()));
  const key = kinds.join(",");
  let names = byKinds.get(key);
  if (!names) {
    names = new Set();
    for (const kind of kinds) {
      for (const node of compilerNodesOfKind(sourceFile, kind)) {
        const name = (node as ts.Node & { name?: ts.Node }).name;
        if (name && typescript.isIdentifier(name)) names.add(name.text);
      }
    }
    byKinds.set(key, names);
  }
  return names.has(identifier.compilerNode.text);
}
