import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Project } from "ts-morph";
import { sdkPackageNames } from "../languages/sdks.js";

/** More declarations than this in one package is not an SDK's (and would slow every type query). */
const MAX_PACKAGE_BYTES = 16 * 1024 * 1024;
const DECLARATION = /\.d\.[cm]?ts$/;

/**
 * The installed SDKs' own declarations (`node_modules/openai/**\/*.d.ts` and its package.json),
 * when the target has them: with them the type checker tells which calls are the SDK's,
 * whatever holds the client (src/languages/typescript/calls-by-type.ts). Only packages of the
 * SDK table that a parsed file names are read, never the rest of node_modules.
 */
export async function addInstalledSdkTypes(project: Project, rootDir: string, parsed: readonly { absPath: string; text: string }[]): Promise<void> {
  const scripts = parsed.filter((file) => /\.[cm]?[jt]sx?$/.test(file.absPath));
  const named = sdkPackageNames("typescript").filter((pkg) => scripts.some((file) => file.text.includes(`"${pkg}`) || file.text.includes(`'${pkg}`)));
  if (!named.length) return;
  const fileSystem = project.getFileSystem();
  const done = new Set<string>();
  for (const dir of packageDirs(rootDir, scripts)) {
    for (const pkg of named) {
      const home = join(dir, "node_modules", pkg);
      if (done.has(home)) continue;
      done.add(home);
      const manifest = await readFile(join(home, "package.json"), "utf8").catch(() => undefined);
      if (manifest === undefined) continue;
      const declarations = await declarationFiles(home);
      if (declarations.reduce((sum, file) => sum + file.size, 0) > MAX_PACKAGE_BYTES) continue;
      fileSystem.writeFileSync(join(home, "package.json"), manifest);
      for (const { path } of declarations) project.createSourceFile(path, await readFile(path, "utf8"), { overwrite: true });
    }
  }
}

/** The folders from each parsed file up to the root: where a node_modules can sit. */
function packageDirs(rootDir: string, files: readonly { absPath: string }[]): string[] {
  const dirs = new Set<string>();
  for (const file of files) {
    for (let dir = dirname(file.absPath); dir.startsWith(rootDir) && !dirs.has(dir); dir = dirname(dir)) {
      dirs.add(dir);
      if (dir === rootDir) break;
    }
  }
  return [...dirs];
}

async function declarationFiles(dir: string): Promise<{ path: string; size: number }[]> {
  const found: { path: string; size: number }[] = [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name);
    // A nested node_modules holds other packages, not this SDK's declarations.
    if (!entry.isFile() || !DECLARATION.test(entry.name) || path.slice(dir.length).includes("/node_modules/")) continue;
    found.push({ path, size: (await stat(path)).size });
  }
  return found;
}
