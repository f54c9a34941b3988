import { join } from "node:path";
import { diffLines } from "diff";
import * as prettier from "prettier";

export type FormatResult = { text: string } | { text: string; failure: string };

/**
 * Formats the lines the migration wrote with the target's own Prettier config, and only those
 * (rangeStart/rangeEnd, one edited range at a time), and only when the original file was already
 * formatted by it: a whole-file format re-laid-out whole handlers for one call site.
 */
export async function formatLikeTheProject(
  rootDir: string,
  absPath: string,
  originalText: string,
  migratedText: string,
): Promise<FormatResult> {
  try {
    const configFile = await prettier.resolveConfigFile(absPath);
    if (!configFile) return { text: migratedText };
    const info = await prettier.getFileInfo(absPath, { ignorePath: join(rootDir, ".prettierignore") });
    if (info.ignored || !info.inferredParser) return { text: migratedText };
    const options = { ...(await prettier.resolveConfig(absPath, { config: configFile, editorconfig: true })), filepath: absPath };
    if (!(await prettier.check(originalText, options))) return { text: migratedText };
    let text = migratedText;
    // Last range first: formatting one range leaves the offsets of those before it valid.
    for (const [rangeStart, rangeEnd] of editedRanges(originalText, migratedText).reverse()) {
      const formatted = await prettier.format(text, { ...options, rangeStart, rangeEnd });
      // Range formatting reaches the whole enclosing statement: a handler newly wrapped in a call
      // gets its arguments broken and its body re-indented. Keep a range's format only when it
      // replaces no more lines of the original than the migration's own text did.
      if (replacedLines(originalText, formatted) <= replacedLines(originalText, text)) text = formatted;
    }
    return { text };
  } catch (error) {
    return { text: migratedText, failure: (error as Error).message.split("\n")[0] ?? "" };
  }
}

/** [start, end) offsets in `after` of the lines that are not in `before`. */
function editedRanges(before: string, after: string): [number, number][] {
  const ranges: [number, number][] = [];
  let at = 0;
  for (const part of diffLines(before, after)) {
    if (part.removed) continue;
    if (part.added) ranges.push([at, at + part.value.length]);
    at += part.value.length;
  }
  return ranges;
}

/** Lines of `before` that `after` no longer has as they were. */
function replacedLines(before: string, after: string): number {
  let count = 0;
  for (const part of diffLines(before, after)) if (part.removed) count += part.count ?? 0;
  return count;
}
