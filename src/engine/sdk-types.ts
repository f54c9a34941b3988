import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { typescript } from "../languages/typescript/ts-morph.js";
import type { ts, Project } from "ts-morph";
import { sdkPackageNames } from "../languages/sdks.js";

/** More declarations than this reached in one package is not an SDK's (and would slow every type query). */
const MAX_PACKAGE_BYTES = 16 * 1024 * 1024;
const DECLARATION = /\.d\.[cm]?ts$/;
const SCRIPT = /\.[cm]?[jt]sx?$/;

/**
 * The installed SDKs' own declarations (`node_modules/openai/index.d.ts` and what it imports,
 * and its package.json), when the target has them: with them the type checker tells which calls
 * are the SDK's, whatever holds the client (src/languages/typescript/calls-by-type.ts). Only the
 * declarations the project's imports reach are added, found by TypeScript's own module resolution
 * under the project's options: openai ships each declaration twice (.d.ts and .d.mts) and most of
 * its resources are never imported by the entry a project uses, so reading the whole package
 * would multiply the files every type query walks. Never the rest of node_modules.
 */
export async function addInstalledSdkTypes(project: Project, rootDir: string, parsed: readonly { absPath: string; text: string }[]): Promise<void> {
  const scripts = parsed.filter((file) => SCRIPT.test(file.absPath));
  const named = sdkPackageNames("typescript").filter((pkg) => scripts.some((file) => file.text.includes(`"${pkg}`) || file.text.includes(`'${pkg}`)));
  if (!named.length) return;
  const resolver = declarationResolver(project.getCompilerOptions());
  const fileSystem = project.getFileSystem();
  const done = new Set<string>();
  for (const dir of packageDirs(rootDir, scripts)) {
    for (const pkg of named) {
      const home = join(dir, "node_modules", pkg);
      if (done.has(home)) continue;
      done.add(home);
      const manifest = await readFile(join(home, "package.json"), "utf8").catch(() => undefined);
      if (manifest === undefined) continue;
      const declarations = await reachedDeclarations(home, resolver, entriesOf(pkg, home, scripts, resolver));
      if (declarations.reduce((sum, file) => sum + file.text.length, 0) > MAX_PACKAGE_BYTES) continue;
      fileSystem.writeFileSync(join(home, "package.json"), manifest);
      for (const { path, text } of declarations) project.createSourceFile(path, text, { overwrite: true });
    }
  }
}

type Resolve = (specifier: string, containingFile: string) => string | undefined;

/**
 * TypeScript's module resolution on the real disk, with the target's options (so one of .d.ts or
 * .d.mts, as the package's `types`/`exports` give it). No realpath: a pnpm link stays under the node_modules it was found in.
 */
function declarationResolver(options: ts.CompilerOptions): Resolve {
  const host: ts.ModuleResolutionHost = {
    fileExists: typescript.sys.fileExists,
    readFile: typescript.sys.readFile,
    directoryExists: typescript.sys.directoryExists,
    getCurrentDirectory: typescript.sys.getCurrentDirectory,
  };
  const cache = typescript.createModuleResolutionCache(typescript.sys.getCurrentDirectory(), (name) => name, options);
  // No resolution mode, as in the in-memory program (its files carry no implied module format): the
  // files found here are the ones the type checker's own resolution then binds the imports to.
  return (specifier, containingFile) => typescript.resolveModuleName(specifier, containingFile, options, host, cache).resolvedModule?.resolvedFileName;
}

/** The declaration files the parsed scripts' imports of `pkg` (or `pkg/…`) resolve to inside its folder. */
function entriesOf(pkg: string, home: string, scripts: readonly { absPath: string; text: string }[], resolve: Resolve): Set<string> {
  const entries = new Set<string>();
  for (const script of scripts) {
    for (const { fileName } of typescript.preProcessFile(script.text, true, true).importedFiles) {
      if (fileName !== pkg && !fileName.startsWith(`${pkg}/`)) continue;
      const resolved = resolve(fileName, script.absPath);
      if (resolved && insidePackage(home, resolved)) entries.add(resolved);
    }
  }
  return entries;
}

/** From the entries, every declaration of the package that their imports and `/// <reference path>`s reach. */
async function reachedDeclarations(home: string, resolve: Resolve, entries: Set<string>): Promise<{ path: string; text: string }[]> {
  const found: { path: string; text: string }[] = [];
  const queue = [...entries];
  const seen = new Set(queue);
  while (queue.length) {
    const path = queue.shift()!;
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text === undefined) continue;
    found.push({ path, text });
    const info = typescript.preProcessFile(text, true, true);
    const next = [
      ...info.importedFiles.map(({ fileName }) => resolve(fileName, path)),
      ...info.referencedFiles.map(({ fileName }) => join(dirname(path), fileName)),
    ];
    for (const target of next) {
      if (!target || seen.has(target) || !insidePackage(home, target)) continue;
      seen.add(target);
      queue.push(target);
    }
  }
  return found;
}

/** A declaration file of this package itself: not a nested node_modules' package, not its JavaScript. */
function insidePackage(home: string, path: string): boolean {
  return path.startsWith(`${home}/`) && DECLARATION.test(path) && !path.slice(home.length).includes("/node_modules/");
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
