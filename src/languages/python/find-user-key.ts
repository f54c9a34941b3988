import { children, descendants, parametersOf, type PythonNode, type PythonSourceFile } from "./parse.js";

const USER_ID = /^(user_?id|uid)$/i;
const CURRENT_USER = /^(current_)?user$/;

/**
 * The canary key a route already has, as a Python expression: `current_user` (`current_user.id`
 * when it has one), a `user_id` parameter or variable, a `user_id` field of the request body, an
 * `x-user-id` header; else the client address as the app's framework reads it from the handler's
 * request; else undefined.
 */
export function findUserKey(fn: PythonNode, files: readonly PythonSourceFile[], clientAddress?: (fn: PythonNode) => string | undefined): string | undefined {
  const params = parametersOf(fn);
  const body = fn.childForFieldName("body");
  const bodyText = body?.text ?? "";
  const user = params.find((p) => CURRENT_USER.test(p.name));
  if (user) {
    const withId = new RegExp(`\\b${user.name}\\.id\\b`).test(bodyText) || (user.annotation !== undefined && classHasField(files, user.annotation, "id"));
    return withId ? `${user.name}.id` : user.name;
  }
  const id = params.find((p) => USER_ID.test(p.name)) ?? localUserId(body);
  if (id) return id.name;
  for (const param of params) {
    const field = param.annotation && modelFields(files, param.annotation).find((name) => USER_ID.test(name));
    if (field) return `${param.name}.${field}`;
  }
  const header = params.find((p) => /^x_user_id$/i.test(p.name) && /Header\(/.test(p.default ?? ""));
  if (header) return header.name;
  const headerRead = /\w+\.headers\.get\(\s*["']x-user-id["']\s*\)/i.exec(bodyText);
  if (headerRead) return headerRead[0];
  return clientAddress?.(fn);
}

function localUserId(body: PythonNode | null): { name: string } | undefined {
  if (!body) return undefined;
  for (const assignment of descendants(body, "assignment")) {
    const left = assignment.childForFieldName("left");
    if (left?.type === "identifier" && USER_ID.test(left.text)) return { name: left.text };
  }
  return undefined;
}

/** Field names of a class defined in the project (Pydantic model or dataclass): annotated names in its body. */
function modelFields(files: readonly PythonSourceFile[], annotation: string): string[] {
  const name = annotation.replace(/^Optional\[(.*)\]$/, "$1").trim();
  for (const file of files) {
    for (const cls of descendants(file.root, "class_definition")) {
      if (cls.childForFieldName("name")?.text !== name) continue;
      const body = cls.childForFieldName("body");
      if (!body) return [];
      return children(body).flatMap((statement) => {
        const assignment = statement.type === "expression_statement" ? children(statement)[0] : undefined;
        const left = assignment?.type === "assignment" ? assignment.childForFieldName("left") : undefined;
        return left?.type === "identifier" ? [left.text] : [];
      });
    }
  }
  return [];
}

function classHasField(files: readonly PythonSourceFile[], annotation: string, field: string): boolean {
  return modelFields(files, annotation).includes(field);
}
