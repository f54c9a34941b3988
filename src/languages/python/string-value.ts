import { definitionOf } from "./imports.js";
import { ancestors, children, descendants, parametersOf, type PythonNode, type PythonSourceFile } from "./parse.js";

/** Stands for a part of a string the code does not show: a parameter, a setting, an environment variable without a default. */
export const UNKNOWN = "\u0000";

/** Environment reads whose second argument (or `default=`) is the value when the variable is not set. */
const ENV_READS = /^(os\.)?(getenv|environ\.get)$/;

/**
 * What a string expression holds, as far as the code shows it: literals, f-strings, `+`, local and
 * module-level names (also imported from project modules), `self.x` set in the class, and the
 * default of an environment read. Whatever the code does not show becomes UNKNOWN, so
 * `f"{OLLAMA_URL}/api/chat"` with `OLLAMA_URL = os.getenv("OLLAMA_URL")` reads `\0/api/chat`.
 */
export function stringValue(expression: PythonNode, file: PythonSourceFile, files: readonly PythonSourceFile[], depth = 0): string {
  if (depth > 8) return UNKNOWN;
  const next = (node: PythonNode | null | undefined, inFile = file) => (node ? stringValue(node, inFile, files, depth + 1) : UNKNOWN);
  switch (expression.type) {
    case "string":
      return children(expression)
        .map((part) => (part.type === "string_content" ? part.text : part.type === "interpolation" ? next(part.childForFieldName("expression")) : ""))
        .join("");
    case "concatenated_string":
      return children(expression).map((part) => next(part)).join("");
    case "parenthesized_expression":
      return next(children(expression)[0]);
    case "binary_operator":
      return expression.childForFieldName("operator")?.text === "+" ? next(expression.childForFieldName("left")) + next(expression.childForFieldName("right")) : UNKNOWN;
    case "call":
      return callValue(expression, next);
    case "identifier": {
      if (isParameter(expression)) return UNKNOWN;
      const local = localAssignment(expression);
      if (local) return next(local);
      const defined = definitionOf(file, expression.text, files);
      return defined?.node.type === "assignment" ? next(defined.node.childForFieldName("right"), defined.file) : UNKNOWN;
    }
    case "attribute": {
      const object = expression.childForFieldName("object");
      const attribute = expression.childForFieldName("attribute")?.text ?? "";
      return object?.text === "self" ? next(selfAssignment(expression, attribute)) : UNKNOWN;
    }
    default:
      return UNKNOWN;
  }
}

function callValue(call: PythonNode, next: (node: PythonNode | null | undefined) => string): string {
  const callee = call.childForFieldName("function");
  const args = children(call.childForFieldName("arguments")!).filter((a) => a.type !== "comment");
  const positional = args.filter((a) => a.type !== "keyword_argument");
  const keyword = (name: string) => args.find((a) => a.type === "keyword_argument" && a.childForFieldName("name")?.text === name)?.childForFieldName("value");
  const name = callee?.text ?? "";
  if (ENV_READS.test(name)) return next(positional[1] ?? keyword("default"));
  if (name === "str") return next(positional[0]);
  if (/(^|\.)urljoin$/.test(name)) return next(positional[0]) + next(positional[1]);
  if (callee?.type === "attribute") {
    const method = callee.childForFieldName("attribute")?.text ?? "";
    const object = callee.childForFieldName("object");
    // A URL trimmed or cased is still the same place.
    if (/^(r?strip|lower)$/.test(method)) return next(object);
    if (method === "format") return next(object).replace(/\{[^}]*\}/g, UNKNOWN);
  }
  return UNKNOWN;
}

/** The value last given to a name in the functions around it, before it is read (`url = f"{BASE}/v1/chat/completions"`). */
function localAssignment(identifier: PythonNode): PythonNode | undefined {
  for (const fn of ancestors(identifier).filter((a) => a.type === "function_definition")) {
    const assigned = descendants(fn, "assignment")
      .filter((a) => a.childForFieldName("left")?.text === identifier.text && a.endIndex <= identifier.startIndex)
      .at(-1);
    if (assigned) return assigned.childForFieldName("right") ?? undefined;
  }
  return undefined;
}

function isParameter(identifier: PythonNode): boolean {
  return ancestors(identifier)
    .filter((a) => a.type === "function_definition" || a.type === "lambda")
    .some((fn) => parametersOf(fn).some((p) => p.name === identifier.text));
}

/** `self.base_url = …` in the class around a method (its `__init__`, usually). */
function selfAssignment(expression: PythonNode, attribute: string): PythonNode | undefined {
  const cls = ancestors(expression).find((a) => a.type === "class_definition");
  const assigned = cls && descendants(cls, "assignment").find((a) => a.childForFieldName("left")?.text === `self.${attribute}`);
  return assigned?.childForFieldName("right") ?? undefined;
}
