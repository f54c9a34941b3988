import { Node, SyntaxKind } from "./ts-morph.js";
import type { NewExpression } from "ts-morph";
import { providerOfFactory, requestScoped } from "./client-holders.js";
import { isFunction } from "./functions.js";

/**
 * Whether a client built inside a function takes its credential from the request: a key read
 * from the request (`req.headers["x-api-key"]`, a constructor or function argument fed from it)
 * or a Workers `env` binding (`env.OPENAI_API_KEY`, `c.env.OPENAI_API_KEY`). Such a client talks
 * to the caller's own account, so it is left alone. One built from the server's own key
 * (`process.env`, a constant, no argument) talks to the server's account like a shared one, so
 * it is gated.
 */
export function credentialIsPerRequest(construction: NewExpression): boolean {
  return construction.getArguments().some((argument) => credentialParts(argument).some((part) => readsRequest(part, 0)));
}

/** Options that can carry a credential; a streaming callback writing to the response (`callbacks: [...]`) is not one. */
const CREDENTIAL_OPTION = /key|token|secret|auth|credential|password|headers|env/i;

function credentialParts(argument: Node): Node[] {
  if (!Node.isObjectLiteralExpression(argument)) return [argument];
  return argument.getProperties().filter((property) => {
    if (Node.isSpreadAssignment(property)) return true;
    if (!Node.isPropertyAssignment(property) && !Node.isShorthandPropertyAssignment(property)) return false;
    return CREDENTIAL_OPTION.test(property.getName());
  });
}

const MAX_HOPS = 4;

function readsRequest(node: Node, hops: number): boolean {
  if (hops > MAX_HOPS) return true;
  const identifiers = Node.isIdentifier(node) ? [node] : node.getDescendantsOfKind(SyntaxKind.Identifier);
  for (const identifier of identifiers) {
    const parent = identifier.getParent();
    // `x.name`: the property name is not a value; `process.env.X` is the server's own.
    if (Node.isPropertyAccessExpression(parent) && parent.getNameNode() === identifier) continue;
    if (identifier.getText() === "process") continue;
    if (Node.isPropertyAssignment(parent) && parent.getNameNode() === identifier) continue;
    const declarations = Node.isShorthandPropertyAssignment(parent) ? shorthandValueDeclarations(parent) : (identifier.getSymbol()?.getDeclarations() ?? []);
    for (const declaration of declarations) {
      if (Node.isParameterDeclaration(declaration) && parameterReadsRequest(declaration, hops)) return true;
      if (Node.isVariableDeclaration(declaration) && declaration.getFirstAncestor(isFunction)) {
        const initializer = declaration.getInitializer();
        if (initializer && readsRequest(initializer, hops + 1)) return true;
      }
      if (Node.isBindingElement(declaration)) {
        const initializer = declaration.getFirstAncestorByKind(SyntaxKind.VariableDeclaration)?.getInitializer();
        if (initializer && declaration.getFirstAncestor(isFunction) && readsRequest(initializer, hops + 1)) return true;
        const parameter = declaration.getFirstAncestorByKind(SyntaxKind.Parameter);
        if (parameter && parameterReadsRequest(parameter, hops)) return true;
      }
    }
  }
  return false;
}

function shorthandValueDeclarations(property: Node): Node[] {
  return Node.isShorthandPropertyAssignment(property) ? (property.getValueSymbol()?.getDeclarations() ?? []) : [];
}

/**
 * A parameter carries the request's credential unless every caller the project shows passes
 * the server's own: a handler's parameter (the framework calls it) always does.
 */
function parameterReadsRequest(parameter: Node, hops: number): boolean {
  const fn = parameter.getParent();
  if (!fn || !isFunction(fn)) return true;
  // A Nest provider's factory gets other providers (config, not the request) unless it is request-scoped.
  const provider = providerOfFactory(fn);
  if (provider) return requestScoped(provider);
  const index = fn.getParameters().findIndex((p) => p === parameter);
  const callers = callersOf(fn);
  if (!callers.length) return true;
  return callers.some((call) => {
    const argument = call.getArguments()[index];
    return argument !== undefined && readsRequest(argument, hops + 1);
  });
}

/** Calls of a named function, or `new` of the class whose constructor it is. */
function callersOf(fn: Node): (Node & { getArguments(): Node[] })[] {
  let name: Node | undefined;
  if (Node.isConstructorDeclaration(fn)) name = fn.getParent()?.getFirstChildByKind(SyntaxKind.Identifier);
  else if (Node.isFunctionDeclaration(fn) || Node.isMethodDeclaration(fn)) name = fn.getNameNode();
  else if (Node.isVariableDeclaration(fn.getParent())) name = (fn.getParent() as Node & { getNameNode(): Node }).getNameNode();
  if (!name || !Node.isIdentifier(name)) return [];
  const calls: (Node & { getArguments(): Node[] })[] = [];
  for (const reference of name.findReferencesAsNodes()) {
    const parent = reference.getParent();
    const callee = Node.isPropertyAccessExpression(parent) && parent.getNameNode() === reference ? parent : reference;
    const call = callee.getParent();
    if ((Node.isCallExpression(call) || Node.isNewExpression(call)) && call.getExpression() === callee) calls.push(call);
  }
  return calls;
}
