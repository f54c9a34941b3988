import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * A Dockerfile that copies the app file by file (`COPY package.json server.js ./`) leaves the
 * vendored runtime out of the image: the migrated server then fails at its first import. Returns
 * the Dockerfiles at the root whose COPY/ADD lines reach no folder holding `runtimePath`.
 */
export async function dockerfilesMissing(rootDir: string, runtimePath: string): Promise<{ file: string; line: number }[]> {
  const names = (await readdir(rootDir).catch(() => [] as string[])).filter((name) => /^Dockerfile(\..+)?$|\.Dockerfile$/i.test(name));
  const found: { file: string; line: number }[] = [];
  for (const name of names) {
    const lines = (await readFile(join(rootDir, name), "utf8")).split(/\r?\n/);
    const copies = lines
      .map((text, i) => ({ text: text.trim(), line: i + 1 }))
      .filter(({ text }) => /^(COPY|ADD)\s/i.test(text) && !/\s--from=/i.test(text));
    if (copies.length === 0) continue;
    const reaches = copies.some(({ text }) => sourcesOf(text).some((source) => covers(source, runtimePath)));
    if (!reaches) found.push({ file: name, line: copies[0]!.line });
  }
  return found;
}

function sourcesOf(instruction: string): string[] {
  const words = instruction.split(/\s+/).slice(1).filter((word) => !word.startsWith("--"));
  if (words[0]?.startsWith("[")) {
    try {
      return (JSON.parse(words.join(" ")) as string[]).slice(0, -1);
    } catch {
      return [];
    }
  }
  return words.slice(0, -1);
}

/** Whether copying `source` (a path or glob, relative to the build context) brings `path` along. */
function covers(source: string, path: string): boolean {
  const clean = source.replace(/^\.\//, "").replace(/\/+$/, "");
  if (clean === "." || clean === "" || clean === "*") return true;
  return path === clean || path.startsWith(`${clean}/`);
}
