/** `from .x import a, b`, `from a.b import c`, `import a.b, c as d`, at the start of a line. */
const FROM_IMPORT = /^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+\(?([\w \t,]*)/gm;
const PLAIN_IMPORT = /^[ \t]*import[ \t]+([\w.]+(?:[ \t]+as[ \t]+\w+)?(?:[ \t]*,[ \t]*[\w.]+(?:[ \t]+as[ \t]+\w+)?)*)/gm;

/**
 * The project files a Python module may import, as specifiers relative to it that end in `.py`
 * (found by path alone, as the relevance pass does for scripts): a relative import from its
 * package, an absolute one from its own folder or any folder above (where the app may be run
 * from), and a name imported from a package, which may be a submodule. Nothing is parsed.
 */
export function pythonImportSpecifiers(path: string, text: string): string[] {
  const depth = path.split("/").length - 1;
  const specifiers = new Set<string>();
  const add = (prefixes: readonly string[], parts: readonly string[]) => {
    if (parts.length === 0) return;
    for (const prefix of prefixes) {
      specifiers.add(`${prefix}${parts.join("/")}.py`);
      specifiers.add(`${prefix}${parts.join("/")}/__init__.py`);
    }
  };
  const fromRoot = Array.from({ length: depth + 1 }, (_, up) => (up === 0 ? "./" : "../".repeat(up)));
  for (const match of text.matchAll(FROM_IMPORT)) {
    const dots = match[1]!.length;
    const module = match[2]!.split(".").filter(Boolean);
    const prefixes = dots > 0 ? [dots === 1 ? "./" : "../".repeat(dots - 1)] : fromRoot;
    add(prefixes, module);
    for (const name of match[3]!.split(",").map((n) => n.trim().split(/\s+/)[0]!).filter(Boolean)) add(prefixes, [...module, name]);
  }
  for (const match of text.matchAll(PLAIN_IMPORT)) {
    for (const name of match[1]!.split(",").map((n) => n.trim().split(/\s+/)[0]!)) add(fromRoot, name.split("."));
  }
  return [...specifiers];
}
