import { Node, SyntaxKind } from "./ts-morph.js";
import type { Type } from "ts-morph";
import { isFunction } from "./functions.js";

/** Names a handler gives the current user's id, in the order we trust them. */
const USER_ID_NAMES = ["userId", "userID", "user_id", "uid"];
/** Names of a user object, keyed by its `id` when it has one. */
const USER_OBJECT_NAMES = ["currentUser", "user"];

export interface UserKeyContext {
  /** The request handler around the call, when there is one. */
  handler?: Node;
  /** The client address in the handler's framework, e.g. `req.ip`; the last resort. */
  clientAddress?: string;
}

/**
 * The canary key for a call site: the user id the code already has, else the client address.
 * Returns the expression text to evaluate at the call site, or undefined when there is none.
 */
export function findUserKey(call: Node, context: UserKeyContext): string | undefined {
  const inScope = namesInScope(call);
  for (const name of USER_ID_NAMES) if (inScope.has(name)) return name;
  for (const name of USER_OBJECT_NAMES) {
    const declaration = inScope.get(name);
    if (!declaration) continue;
    const scope = declaration.getFirstAncestor(isFunction) ?? declaration.getSourceFile();
    const type = typeOf(declaration);
    const idUsed = new RegExp(`\\b${name}\\??\\.id\\b`).test(scope.getText());
    if (type?.getProperty("id") || type?.getNonNullableType().getProperty("id") || idUsed) {
      return type && isNullable(type) ? `${name}?.id` : `${name}.id`;
    }
    if (name === "currentUser") return name;
  }
  const searchIn = context.handler ?? call.getFirstAncestor(isFunction);
  if (searchIn) {
    const userIdRead = searchIn
      .getDescendantsOfKind(SyntaxKind.PropertyAccessExpression)
      .find((access) => /^\w+\.user\??\.id$/.test(access.getText()));
    if (userIdRead) return userIdRead.getText();
    const headerRead = findHeaderRead(searchIn);
    if (headerRead) return headerRead;
  }
  return context.clientAddress;
}

/** `req.headers["x-user-id"]`, `req.get("x-user-id")`, `req.header("X-User-Id")`, as written. */
function findHeaderRead(scope: Node): string | undefined {
  for (const literal of scope.getDescendantsOfKind(SyntaxKind.StringLiteral)) {
    if (literal.getLiteralText().toLowerCase() !== "x-user-id") continue;
    const parent = literal.getParent();
    if (Node.isElementAccessExpression(parent)) return parent.getText();
    if (Node.isCallExpression(parent) && /\.(get|header)$/.test(parent.getExpression().getText())) return parent.getText();
  }
  return undefined;
}

function typeOf(declaration: Node): Type | undefined {
  try {
    return declaration.getType();
  } catch {
    return undefined;
  }
}

function isNullable(type: Type): boolean {
  return type.isNullable() || (type.isUnion() && type.getUnionTypes().some((t) => t.isNull() || t.isUndefined()));
}

/** Variables and parameters visible at `node` and declared before it, nearest first. */
function namesInScope(node: Node): Map<string, Node> {
  const names = new Map<string, Node>();
  const add = (name: string, declaration: Node) => {
    if (!names.has(name)) names.set(name, declaration);
  };
  let child: Node = node;
  for (let scope = node.getParent(); scope; child = scope, scope = scope.getParent()) {
    if (Node.isBlock(scope) || Node.isSourceFile(scope) || Node.isCaseClause(scope)) {
      for (const statement of scope.getStatements()) {
        if (statement.getStart() >= child.getStart()) break;
        if (Node.isVariableStatement(statement)) {
          for (const declaration of statement.getDeclarations()) addBindingNames(declaration.getNameNode(), declaration, add);
        }
      }
    }
    if (isFunction(scope)) {
      for (const parameter of scope.getParameters()) addBindingNames(parameter.getNameNode(), parameter, add);
    }
  }
  return names;
}

function addBindingNames(nameNode: Node, declaration: Node, add: (name: string, declaration: Node) => void): void {
  if (Node.isIdentifier(nameNode)) {
    add(nameNode.getText(), declaration);
    return;
  }
  for (const element of nameNode.getDescendantsOfKind(SyntaxKind.BindingElement)) {
    const name = element.getNameNode();
    if (Node.isIdentifier(name)) add(name.getText(), element);
  }
}
