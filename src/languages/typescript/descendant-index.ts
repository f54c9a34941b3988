import { Node, typescript } from "./ts-morph.js";
import type { ts, SyntaxKind } from "ts-morph";

/**
 * Detection asks `getDescendantsOfKind` dozens of times per analysis, and analyses again after
 * every transform. ts-morph answers each question with a fresh walk of the whole file (through
 * nested generators), and for token kinds such as StringLiteral and Identifier it first builds
 * every token of the file: a 1 MB module took minutes and hundreds of MB. Here each version of a
 * file is walked once, its nodes filed by kind in document order, and every later question is a
 * binary search in that list. An edit gives the file a new compiler node, so an index never
 * outlives the text it describes.
 *
 * The answers are ts-morph's own for node kinds; for token kinds they leave out what sits inside
 * JSDoc comments, which is not code.
 */
/** The nodes of one kind in document order, and their wrappers once asked for. */
interface KindList {
  nodes: ts.Node[];
  wrapped: (Node | undefined)[];
  /** All of them wrapped, once the whole file was asked for. */
  all?: Node[];
}

interface KindIndex {
  byKind: Map<SyntaxKind, KindList>;
}

const indexes = new WeakMap<ts.SourceFile, KindIndex>();

function indexOf(sourceFile: ts.SourceFile): KindIndex {
  let index = indexes.get(sourceFile);
  if (index) return index;
  const byKind = new Map<SyntaxKind, KindList>();
  const visit = (node: ts.Node): void => {
    const list = byKind.get(node.kind);
    if (list) list.nodes.push(node);
    else byKind.set(node.kind, { nodes: [node], wrapped: [] });
    typescript.forEachChild(node, visit);
  };
  typescript.forEachChild(sourceFile, visit);
  index = { byKind };
  indexes.set(sourceFile, index);
  return index;
}

/** First position in `nodes` (document order) whose start is at or after `pos`. */
function firstAtOrAfter(nodes: readonly ts.Node[], pos: number): number {
  let low = 0;
  let high = nodes.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (nodes[middle]!.pos < pos) low = middle + 1;
    else high = middle;
  }
  return low;
}

function isInside(node: ts.Node, ancestor: ts.Node): boolean {
  for (let current = node.parent; current; current = current.parent) if (current === ancestor) return true;
  return false;
}

/** Positions in the kind's list of the nodes of `kind` below `node`, in document order, as ts-morph would list them. */
function descendantsOfKind(node: ts.Node, nodes: readonly ts.Node[]): number[] {
  const found: number[] = [];
  // Nodes nest, so the ones below `node` are those that start and end within it; one that
  // touches its edges may be its parent (an expression statement and its call) or an empty
  // neighbour, so for those the parents decide.
  for (let i = firstAtOrAfter(nodes, node.pos); i < nodes.length && nodes[i]!.pos <= node.end; i++) {
    const candidate = nodes[i]!;
    if (candidate === node || candidate.end > node.end) continue;
    const onEdge = candidate.pos === node.pos || candidate.end === node.end || candidate.pos === node.end;
    if (onEdge && !isInside(candidate, node)) continue;
    found.push(i);
  }
  return found;
}

interface NodeInternals {
  compilerNode: ts.Node;
  _sourceFile: { compilerNode: ts.SourceFile };
  _getNodeFromCompilerNode(compilerNode: ts.Node): Node;
}

let installed = false;

/** The wrapped nodes of `kind` below `self`, each wrapped once per version of its file. */
function wrappedDescendants(self: NodeInternals, kind: SyntaxKind, first: boolean): Node[] {
  const sourceFile = self._sourceFile.compilerNode;
  const list = indexOf(sourceFile).byKind.get(kind);
  if (!list) return [];
  const wrap = (i: number) => (list.wrapped[i] ??= self._getNodeFromCompilerNode(list.nodes[i]!));
  if (self.compilerNode !== sourceFile) {
    const positions = descendantsOfKind(self.compilerNode, list.nodes);
    return (first ? positions.slice(0, 1) : positions).map(wrap);
  }
  if (first) return [wrap(0)];
  // A copy: callers may sort or splice what they get.
  list.all ??= list.nodes.map((_, i) => wrap(i));
  return list.all.slice();
}

/** Makes `getDescendantsOfKind` and `getFirstDescendantByKind` answer from the index. Idempotent. */
export function indexDescendantSearches(): void {
  if (installed) return;
  installed = true;
  const prototype = Node.prototype as unknown as Record<string, unknown>;
  prototype.getDescendantsOfKind = function (this: NodeInternals, kind: SyntaxKind) {
    return wrappedDescendants(this, kind, false);
  };
  prototype.getFirstDescendantByKind = function (this: NodeInternals, kind: SyntaxKind) {
    return wrappedDescendants(this, kind, true)[0];
  };
}

/** The compiler nodes of `kind` in a file, in document order, without wrapping any (for cheap tests by name). */
export function compilerNodesOfKind(sourceFile: ts.SourceFile, kind: SyntaxKind): readonly ts.Node[] {
  return indexOf(sourceFile).byKind.get(kind)?.nodes ?? [];
}
