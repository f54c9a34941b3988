import { posix } from "node:path";
import { importEdit, vendoredModuleSpec } from "../../src/languages/python/imports.js";
import { TextEdits } from "../../src/languages/python/parse.js";
import { candidateFiles, RUNTIME_MODULE, type PythonMigrationContext } from "./context.js";

/**
 * Imports what the other transforms wrote: `import asyncio`, the route helpers of the app's
 * framework, and the runtime's names from the vendored module, in the app's own import style.
 * Runs after the transforms; one import at a time, because each edit moves the next one's place.
 */
export function addRuntimeImports(context: PythonMigrationContext): void {
  const paths = candidateFiles(context.input).map((f) => f.getFilePath());
  const framework = context.analyse().framework;
  for (const [file, needs] of context.imports) {
    const siblings = new Set(paths.filter((p) => posix.dirname(p) === posix.dirname(file.getFilePath())).map((p) => posix.basename(p, ".py")));
    const isLocal = (module: string) => module.startsWith(".") || siblings.has(module.split(".").at(-1)!);
    const wanted: { module: string; names: string[]; standardLibrary: boolean }[] = [];
    if (needs.asyncio) wanted.push({ module: "asyncio", names: [], standardLibrary: true });
    if (needs.routeHelpers && framework) wanted.push(...framework.routeImports.map((i) => ({ ...i, names: [...i.names] })));
    if (needs.runtime.size > 0) {
      const module = vendoredModuleSpec(file, RUNTIME_MODULE, context.runtimeDir, context.input.rootDir, paths);
      wanted.push({ module, names: [...needs.runtime].sort(), standardLibrary: false });
    }
    for (const { module, names, standardLibrary } of wanted) {
      const edit = importEdit(file, module, names, standardLibrary, isLocal);
      if (!edit) continue;
      const edits = new TextEdits();
      edits.insert(file, edit.at, edit.text);
      edits.apply();
    }
  }
}
