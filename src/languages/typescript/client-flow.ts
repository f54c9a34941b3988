import { Node, SyntaxKind } from "./ts-morph.js";
import type { CallExpression, ClassDeclaration, NewExpression, ParameterDeclaration, SourceFile } from "ts-morph";
import { isClientExpression, memberDeclaredBy, type ClientBindings } from "./client-bindings.js";
import { skipWrappers } from "./client-holders.js";

const MAX_HOPS = 4;

/**
 * Follows the client through the project's own code, a few hops deep as helpers nest:
 * - into the parameters of functions and constructors it is passed to, positionally
 *   (`summarize(openai, text)`) or in an options object (`createChatService({ openai })`,
 *   then `deps.openai` or `{ openai: llm }` in the factory);
 * - into constructor parameter properties and `this.x = client` (`this.llm.invoke()` later);
 * - into local aliases (`const llm = deps.openai`, `const { openai } = deps`).
 */
/**
 * The calls, `new`s, variable declarations and assignments of a file, in document order: what
 * `getDescendants()` would yield of them, without wrapping every token of the file (minutes on
 * a 1 MB module).
 */
function flowNodes(file: SourceFile): Node[] {
  const kinds = [SyntaxKind.CallExpression, SyntaxKind.NewExpression, SyntaxKind.VariableDeclaration, SyntaxKind.BinaryExpression];
  // An outer node starts no later than the nodes inside it and ends no earlier.
  return kinds.flatMap((kind) => file.getDescendantsOfKind(kind)).sort((a, b) => a.getPos() - b.getPos() || b.getEnd() - a.getEnd());
}

export function addFlowBindings(files: readonly SourceFile[], bindings: ClientBindings): void {
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const before = size(bindings);
    for (const file of files) {
      for (const call of flowNodes(file)) {
        if (Node.isCallExpression(call) || Node.isNewExpression(call)) followArguments(call, bindings);
        else if (Node.isVariableDeclaration(call)) followAlias(call, bindings);
        else if (Node.isBinaryExpression(call)) followThisAssignment(call, bindings);
      }
    }
    if (size(bindings) === before) return;
  }
}

function size(bindings: ClientBindings): number {
  let members = 0;
  for (const names of bindings.memberOf.values()) members += names.size;
  return bindings.direct.size + members + bindings.thisMembers.length;
}

function followArguments(call: CallExpression | NewExpression, bindings: ClientBindings): void {
  const args = call.getArguments();
  let parameters: ParameterDeclaration[] | undefined;
  args.forEach((arg, index) => {
    const inner = skipWrappers(arg);
    const isClient = isClientExpression(inner, bindings);
    const keys = !isClient && Node.isObjectLiteralExpression(inner) ? clientKeys(inner, bindings) : [];
    if (!isClient && !keys.length) return;
    parameters ??= calledParameters(call);
    const parameter = parameters[index];
    if (!parameter) return;
    const name = parameter.getNameNode();
    if (isClient) {
      if (Node.isIdentifier(name)) {
        bindings.direct.add(parameter);
        addParameterProperty(parameter, bindings);
      }
      return;
    }
    if (Node.isIdentifier(name)) {
      const members = bindings.memberOf.get(parameter) ?? new Set<string>();
      for (const key of keys) members.add(key);
      bindings.memberOf.set(parameter, members);
    } else if (Node.isObjectBindingPattern(name)) {
      for (const element of name.getElements()) {
        const key = element.getPropertyNameNode()?.getText() ?? element.getName();
        if (keys.includes(key)) bindings.direct.add(element);
      }
    }
  });
}

/** Keys of an object literal whose values are the client: `{ openai }`, `{ llm: openai }`. */
function clientKeys(object: Node, bindings: ClientBindings): string[] {
  if (!Node.isObjectLiteralExpression(object)) return [];
  const keys: string[] = [];
  for (const property of object.getProperties()) {
    if (Node.isShorthandPropertyAssignment(property)) {
      const declarations = property.getValueSymbol()?.getDeclarations() ?? [];
      if (declarations.some((d) => bindings.direct.has(d))) keys.push(property.getName());
    } else if (Node.isPropertyAssignment(property)) {
      const value = property.getInitializer();
      if (value && isClientExpression(value, bindings)) keys.push(property.getName());
    }
  }
  return keys;
}

/** The parameters of the project function or class a call runs (imports followed). */
function calledParameters(call: CallExpression | NewExpression): ParameterDeclaration[] {
  const callee = skipWrappers(call.getExpression());
  const symbol = Node.isIdentifier(callee) || Node.isPropertyAccessExpression(callee) ? callee.getSymbol() : undefined;
  const target = symbol?.getAliasedSymbol() ?? symbol;
  for (const declaration of target?.getDeclarations() ?? []) {
    if (Node.isClassDeclaration(declaration) || Node.isClassExpression(declaration)) {
      const constructor = declaration.getConstructors()[0];
      if (constructor) return constructor.getParameters();
    }
    if (Node.isFunctionDeclaration(declaration) || Node.isMethodDeclaration(declaration)) return declaration.getParameters();
    const initializer = Node.isVariableDeclaration(declaration) || Node.isPropertyAssignment(declaration) ? declaration.getInitializer() : undefined;
    if (Node.isArrowFunction(initializer) || Node.isFunctionExpression(initializer)) return initializer.getParameters();
  }
  return [];
}

/** `constructor(private readonly llm: OpenAI)`: the class reads it as `this.llm`. */
export function addParameterProperty(parameter: ParameterDeclaration, bindings: ClientBindings): void {
  if (!parameter.isParameterProperty()) return;
  const ownerClass = parameter.getFirstAncestorByKind(SyntaxKind.ClassDeclaration);
  if (ownerClass) addThisMember(ownerClass, parameter.getName(), bindings);
}

export function addThisMember(ownerClass: ClassDeclaration, name: string, bindings: ClientBindings): void {
  if (!bindings.thisMembers.some((m) => m.ownerClass === ownerClass && m.name === name)) bindings.thisMembers.push({ ownerClass, name });
}

/** `const llm = openai`, `const client = deps.openai`, `const { openai: llm } = deps`, `const { openai } = this`. */
function followAlias(declaration: Node, bindings: ClientBindings): void {
  if (!Node.isVariableDeclaration(declaration) || bindings.direct.has(declaration)) return;
  const initializer = declaration.getInitializer();
  if (!initializer) return;
  const name = declaration.getNameNode();
  if (Node.isIdentifier(name)) {
    if (isClientExpression(initializer, bindings)) bindings.direct.add(declaration);
    return;
  }
  if (!Node.isObjectBindingPattern(name)) return;
  const source = skipWrappers(initializer);
  for (const element of name.getElements()) {
    const key = element.getPropertyNameNode()?.getText() ?? element.getName();
    if (bindings.direct.has(element)) continue;
    const holds =
      (Node.isIdentifier(source) && memberDeclaredBy(source, key, bindings.memberOf)) ||
      (Node.isThisExpression(source) && bindings.thisMembers.some((m) => m.name === key && m.ownerClass === source.getFirstAncestorByKind(SyntaxKind.ClassDeclaration)));
    if (holds) bindings.direct.add(element);
  }
}

/** `this.llm = client` anywhere in a class (constructor, init method). */
function followThisAssignment(binary: Node, bindings: ClientBindings): void {
  if (!Node.isBinaryExpression(binary) || binary.getOperatorToken().getKind() !== SyntaxKind.EqualsToken) return;
  const left = binary.getLeft();
  if (!Node.isPropertyAccessExpression(left) || !Node.isThisExpression(left.getExpression())) return;
  const ownerClass = binary.getFirstAncestorByKind(SyntaxKind.ClassDeclaration);
  if (ownerClass && isClientExpression(binary.getRight(), bindings)) addThisMember(ownerClass, left.getName(), bindings);
}
