import { readFile, readdir } from "node:fs/promises";
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
 * or each transpiled on its own to JavaScript for ESM or CommonJS servers, plus its README.
 */
export async function runtimeFiles(flavour: Flavour): Promise<RuntimeFile[]> {
  const runtimeDir = join(toolPackage().root, "runtime");
  // Python: the module, and the shared limit it imports only when LLM_REDIS_URL is set, next to the app.
  if (flavour === "python") {
    return Promise.all(PYTHON_RUNTIME_MODULES.map(async (name) => ({ name, contents: await readFile(join(runtimeDir, "python", name)) })));
  }
  const names = (await readdir(runtimeDir, { withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort();
  const files: RuntimeFile[] = [];
  for (const name of names) {
    const contents = await readFile(join(runtimeDir, name));
    if (name === "README.md") {
      files.push({ name, contents });
    } else if (name.endsWith(".ts") && !/\.(test|spec)\.ts$/.test(name) && !name.endsWith(".d.ts")) {
      files.push(flavour === "ts" ? { name, contents } : { name: name.replace(/\.ts$/, ".js"), contents: transpile(name, contents, flavour) });
    }
  }
  return files;
}

function transpile(name: string, contents: Buffer, flavour: "esm" | "cjs"): Buffer {
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
