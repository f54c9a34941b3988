import { Node } from "./ts-morph.js";
import type { ArrowFunction, ConstructorDeclaration, FunctionDeclaration, FunctionExpression, GetAccessorDeclaration, MethodDeclaration, SetAccessorDeclaration } from "ts-morph";

export type AnyFunction =
  | FunctionDeclaration
  | FunctionExpression
  | ArrowFunction
  | MethodDeclaration
  | ConstructorDeclaration
  | GetAccessorDeclaration
  | SetAccessorDeclaration;

/**
 * Any function: ts-morph's `Node.isFunctionLikeDeclaration` leaves out function expressions
 * (`app.post("/", async function handler (req, res) { … })`), which handlers often are.
 */
export function isFunction(node: Node | undefined): node is AnyFunction {
  return Node.isFunctionLikeDeclaration(node) || Node.isArrowFunction(node) || Node.isFunctionExpression(node);
}
