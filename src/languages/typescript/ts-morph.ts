/**
 * ts-morph's values, loaded with require(). Imported the ES way, this CommonJS package makes Node
 * scan its 1 MB of source for export names before running it, on every run of the CLI (about
 * 0.1 s of a scan's CPU). Its types come from "ts-morph" itself with `import type`.
 * The TypeScript compiler inside comes from the code cache the build saves, when there is one.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type * as TsMorph from "ts-morph";
import { preloadTypeScript, readCodeCache } from "./typescript-code-cache.js";

// Beside the built CLI (dist/); the sources, run by the tests, use the build's in dist/ when there is one.
const codeCache =
  readCodeCache(fileURLToPath(new URL("../../../typescript.code-cache", import.meta.url))) ??
  readCodeCache(fileURLToPath(new URL("../../../dist/typescript.code-cache", import.meta.url)));
if (codeCache) preloadTypeScript(codeCache);
const tsMorph = createRequire(import.meta.url)("ts-morph") as typeof TsMorph;

export const Node = tsMorph.Node;
export type Node<NodeType extends TsMorph.ts.Node = TsMorph.ts.Node> = TsMorph.Node<NodeType>;
export const SyntaxKind = tsMorph.SyntaxKind;
export type SyntaxKind = TsMorph.SyntaxKind;
export const Project = tsMorph.Project;
export type Project = TsMorph.Project;
/** The TypeScript compiler API that ts-morph bundles (for its types: `import type { ts } from "ts-morph"`). */
export const typescript = tsMorph.ts;
