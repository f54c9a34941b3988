import type { PythonLlmCall, PythonWrapperFunction } from "./find-llm-calls.js";
import type { WrapperClasses } from "./find-llm-clients.js";
import { decoratorsOf, descendants, enclosingFunction, isAsyncFunction, type PythonNode, type PythonSourceFile } from "./parse.js";

export interface PythonWrappers {
  /** Project classes, by name (any name: the guide's `learning_plannner` too), with their methods that make LLM calls. */
  classes: WrapperClasses;
  functions: PythonWrapperFunction[];
  /** Async methods, by class, whose own LLM calls are gated where they are: a call of one must not take a second slot. */
  gatedInside: WrapperClasses;
}

/**
 * The project's own wrappers: sync functions and methods that make an LLM call (an SDK call, a local
 * model run, an HTTP request to an LLM API, or a call of another wrapper). Whoever calls one from
 * an `async def` blocks the event loop; that call is what gets gated, with the wrapper itself run
 * as written. Async functions are not wrappers: the calls inside them are gated where they are.
 * Routes are not wrappers either: the framework calls them.
 */
export function findWrappers(calls: readonly PythonLlmCall[], alreadyGated: readonly PythonNode[] = []): PythonWrappers {
  const classes = new Map<string, Set<string>>();
  const functions: PythonWrapperFunction[] = [];
  const gatedInside = new Map<string, Set<string>>();
  // Calls found, and calls an earlier run gated (so that a second run decides alike).
  for (const node of [...calls.map((c) => c.call), ...alreadyGated]) {
    const fn = enclosingFunction(node);
    const cls = fn && classOf(fn);
    if (!fn || !cls || !isAsyncFunction(fn)) continue;
    const className = cls.childForFieldName("name")!.text;
    gatedInside.set(className, (gatedInside.get(className) ?? new Set()).add(fn.childForFieldName("name")!.text));
  }
  // Keyed by position: tree-sitter hands out a new node object on every access.
  const makesLlmCalls = new Map<string, PythonNode>();
  const key = (fn: PythonNode) => `${fn.tree.rootNode.id}:${fn.startIndex}`;
  for (const call of calls) {
    const fn = enclosingFunction(call.call);
    if (fn?.type === "function_definition" && !isAsyncFunction(fn) && !isRoute(fn)) makesLlmCalls.set(key(fn), fn);
  }
  // A method that calls one of its class's wrapper methods through `self` is one too.
  for (let grew = true; grew; ) {
    grew = false;
    for (const fn of [...makesLlmCalls.values()]) {
      const cls = classOf(fn);
      if (!cls) continue;
      const name = fn.childForFieldName("name")!.text;
      for (const other of methodsOf(cls)) {
        if (makesLlmCalls.has(key(other)) || isAsyncFunction(other)) continue;
        if (descendants(other, "call").some((c) => c.childForFieldName("function")?.text === `self.${name}`)) {
          makesLlmCalls.set(key(other), other);
          grew = true;
        }
      }
    }
  }
  for (const fn of makesLlmCalls.values()) {
    const name = fn.childForFieldName("name")!.text;
    const cls = classOf(fn);
    if (cls) {
      const className = cls.childForFieldName("name")!.text;
      classes.set(className, (classes.get(className) ?? new Set()).add(name));
    } else if (fn.parent?.type === "module" || fn.parent?.parent?.type === "module") {
      functions.push({ file: fileOf(calls, fn), fn, name });
    }
  }
  return { classes, functions, gatedInside };
}

/** Whether `fn` (or its class) was already found: the loop in the analysis stops when nothing new is. */
export function sameWrappers(a: PythonWrappers, b: PythonWrappers): boolean {
  const size = (w: PythonWrappers) => [...w.classes.values()].reduce((n, methods) => n + methods.size, 0) + w.functions.length;
  return size(a) === size(b);
}

/** Calls inside a wrapper: what runs when the wrapper runs, so they are gated where the wrapper is called. */
export function insideWrapper(call: PythonLlmCall, wrappers: PythonWrappers): boolean {
  const fn = enclosingFunction(call.call);
  if (fn?.type !== "function_definition") return false;
  const name = fn.childForFieldName("name")!.text;
  const cls = classOf(fn);
  if (cls) return wrappers.classes.get(cls.childForFieldName("name")!.text)?.has(name) ?? false;
  return wrappers.functions.some((w) => w.fn.equals(fn));
}

function isRoute(fn: PythonNode): boolean {
  return decoratorsOf(fn).some((d) => /^\w+\.(get|post|put|patch|delete|options|head|api_route|websocket|route)\(/.test(d.text));
}

/** The class a method is defined in (directly, or under a decorator such as `@staticmethod`). */
function classOf(fn: PythonNode): PythonNode | undefined {
  const holder = fn.parent?.type === "decorated_definition" ? fn.parent : fn;
  const cls = holder.parent?.parent;
  return holder.parent?.type === "block" && cls?.type === "class_definition" ? cls : undefined;
}

function methodsOf(cls: PythonNode): PythonNode[] {
  return descendants(cls, "function_definition").filter((fn) => classOf(fn)?.equals(cls));
}

function fileOf(calls: readonly PythonLlmCall[], fn: PythonNode): PythonSourceFile {
  return calls.find((c) => c.call.startIndex >= fn.startIndex && c.call.endIndex <= fn.endIndex && c.call.tree === fn.tree)!.file;
}
