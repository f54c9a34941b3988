import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { typescript } from "../languages/typescript/ts-morph.js";
import type { MigrationOutcome } from "../../transforms/types.js";
import { PYTHON_RUNTIME_MODULES } from "../languages/python/runtime-home.js";
import { toolPackage } from "./package-root.js";

export interface RuntimeFile {
  /** File name inside the vendored runtime folder. */
  name: string;
  contents: Buffer;
}

type Flavour = NonNullable<MigrationOutcome["runtimeFlavour"]>;

/**
 * The files of the bundled runtime as the target needs them: the TypeScript sources as they are,
 * or each transpiled on its own to JavaScript for ESM or CommonJS servers, plus its README. The
 * JavaScript comes from the build (see prebuildRuntime) when it was made from these very sources,
 * and is transpiled here otherwise.
 */
export async function runtimeFiles(flavour: Flavour): Promise<RuntimeFile[]> {
  const runtimeDir = join(toolPackage().root, "runtime");
  // Python: the module, and the shared limit it imports only when LLM_REDIS_URL is set, next to the app.
  if (flavour === "python") {
    return Promise.all(PYTHON_RUNTIME_MODULES.map(async (name) => ({ name, contents: await readFile(join(runtimeDir, "python", name)) })));
  }
  const prebuilt = flavour === "ts" ? undefined : await readPrebuilt(flavour);
  const files: RuntimeFile[] = [];
  for (const { name, contents } of await runtimeSources(runtimeDir)) {
    if (name === "README.md" || flavour === "ts") {
      files.push({ name, contents });
      continue;
    }
    const built = prebuilt?.get(jsName(name));
    files.push({ name: jsName(name), contents: built && built.source === sha256(contents) ? built.contents : transpile(name, contents, flavour) });
  }
  return files;
}

/** The runtime's README and its TypeScript modules (no tests, no declarations), by name. */
async function runtimeSources(runtimeDir: string): Promise<RuntimeFile[]> {
  const names = (await readdir(runtimeDir, { withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .filter((name) => name === "README.md" || (name.endsWith(".ts") && !/\.(test|spec)\.ts$/.test(name) && !name.endsWith(".d.ts")))
    .sort();
  return Promise.all(names.map(async (name) => ({ name, contents: await readFile(join(runtimeDir, name)) })));
}

/**
 * Where the build keeps the runtime transpiled for each flavour, with a manifest of the SHA-256
 * of the source each file was made from: a runtime edited since the build is transpiled again.
 */
function prebuiltDir(flavour: "esm" | "cjs"): string {
  return join(toolPackage().root, "dist", "runtime-js", flavour);
}

const MANIFEST = "sources.json";

async function readPrebuilt(flavour: "esm" | "cjs"): Promise<Map<string, { source: string; contents: Buffer }> | undefined> {
  const dir = prebuiltDir(flavour);
  try {
    const sources = JSON.parse(await readFile(join(dir, MANIFEST), "utf8")) as Record<string, string>;
    const entries = await Promise.all(Object.entries(sources).map(async ([name, source]) => [name, { source, contents: await readFile(join(dir, name)) }] as const));
    return new Map(entries);
  } catch {
    return undefined; // no build of it (run from sources), or an unreadable one: transpile
  }
}

/** Run by `npm run build` (scripts/prebuild-runtime.js): transpiles the runtime for both JavaScript flavours once. */
export async function prebuildRuntime(): Promise<void> {
  const sources = (await runtimeSources(join(toolPackage().root, "runtime"))).filter(({ name }) => name.endsWith(".ts"));
  for (const flavour of ["esm", "cjs"] as const) {
    const dir = prebuiltDir(flavour);
    await mkdir(dir, { recursive: true });
    const manifest: Record<string, string> = {};
    for (const { name, contents } of sources) {
      await writeFile(join(dir, jsName(name)), transpile(name, contents, flavour));
      manifest[jsName(name)] = sha256(contents);
    }
    await writeFile(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  }
}

/** The name a runtime module takes as JavaScript. */
function jsName(name: string): string {
  return name.replace(/\.ts$/, ".js");
}

function sha256(contents: Buffer): string {
  return createHash("sha256").update(contents).digest("hex");
}

/** One runtime module as JavaScript of the flavour, transpiled on its own. */
export function transpile(name: string, contents: Buffer, flavour: "esm" | "cjs"): Buffer {
  const { outputText } = typescript.transpileModule(contents.toString("utf8"), {
    fileName: name,
    compilerOptions: {
      target: typescript.ScriptTarget.ES2022,
      module: flavour === "esm" ? typescript.ModuleKind.ESNext : typescript.ModuleKind.CommonJS,
      esModuleInterop: true,
      sourceMap: false,
      removeComments: false,
    },
  });
  return Buffer.from(outputText, "utf8");
}
