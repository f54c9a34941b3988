/**
 * Adds the dependencies the vendored runtime imports, keeping the file's indentation, key order
 * and trailing newline. Returns undefined when every one is already there.
 */
export function addDependencies(text: string, wanted: Record<string, string>): string | undefined {
  const manifest = JSON.parse(text) as { dependencies?: Record<string, string> };
  const dependencies = manifest.dependencies ?? {};
  const missing = Object.entries(wanted).filter(([name]) => !(name in dependencies));
  if (missing.length === 0) return undefined;
  const names = Object.keys(dependencies);
  const wasSorted = names.every((name, i) => i === 0 || names[i - 1]! <= name);
  let next: Record<string, string> = { ...dependencies, ...Object.fromEntries(missing) };
  if (wasSorted) next = Object.fromEntries(Object.entries(next).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  manifest.dependencies = next;
  const indent = /^([ \t]+)"/m.exec(text)?.[1] ?? "  ";
  const trailing = /\r?\n$/.exec(text)?.[0] ?? "";
  return JSON.stringify(manifest, null, indent) + trailing;
}
