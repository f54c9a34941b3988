import { ancestors, children, descendants, parametersOf, type PythonNode } from "./parse.js";

/** Keyword arguments of an SDK client that carry its credential. */
const CREDENTIAL_ARGUMENTS = new Set(["api_key", "auth_token", "azure_ad_token"]);
/** Parameters that hold the server's own configuration, not the caller's: `settings: Settings = Depends(get_settings)`. */
const SERVER_CONFIG = /settings|config|env/i;

/**
 * Whether a client built inside a function takes its credential from the request: its `api_key`
 * (or token) is read from a parameter of the function around it (a body field, a header, the key a
 * caller passed in), directly or through locals (`body = await request.json()`, `key = body["key"]`).
 * Such a client spends the caller's quota, not the server's, so its calls are left by design. A key
 * from the environment, settings or a constant is the server's own: the same upstream account for
 * every request, so those calls are gated.
 */
export function takesRequestCredential(construction: PythonNode): boolean {
  const args = children(construction.childForFieldName("arguments") ?? construction);
  const credentials = args.filter((a) => a.type === "keyword_argument" && CREDENTIAL_ARGUMENTS.has(a.childForFieldName("name")?.text ?? ""));
  return credentials.some((argument) => fromParameter(argument.childForFieldName("value"), construction, 0));
}

function fromParameter(expression: PythonNode | null | undefined, at: PythonNode, depth: number): boolean {
  if (!expression || depth > 4) return false;
  const functions = ancestors(at).filter((a) => a.type === "function_definition");
  const roots = [expression, ...descendants(expression, "identifier")].filter((node) => node.type === "identifier" && !isAttributeName(node));
  return roots.some((identifier) => {
    for (const fn of functions) {
      const param = parametersOf(fn).find((p) => p.name === identifier.text);
      if (param) return param.name !== "self" && param.name !== "cls" && !SERVER_CONFIG.test(`${param.name} ${param.annotation ?? ""}`);
      const assigned = descendants(fn, "assignment")
        .filter((a) => a.childForFieldName("left")?.text === identifier.text && a.endIndex <= identifier.startIndex)
        .at(-1);
      if (assigned) return fromParameter(assigned.childForFieldName("right"), assigned, depth + 1);
    }
    return false;
  });
}

/** `key` in `args.key`: a name after a dot is an attribute, not a variable. */
function isAttributeName(identifier: PythonNode): boolean {
  return identifier.parent?.type === "attribute" && identifier.parent.childForFieldName("attribute")?.equals(identifier) === true;
}
