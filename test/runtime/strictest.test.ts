// The vendored runtime compiles in the strictest projects users have: @tsconfig/strictest
// (exactOptionalPropertyTypes, noPropertyAccessFromIndexSignature, noUncheckedIndexedAccess, …),
// as apply vendors it (the same file list), and its test-only hook is not in what users import.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import * as runtime from "../../runtime/index.js";
import { runtimeFiles } from "../../src/engine/vendor-runtime.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "llm-runtime-strictest-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function strictestErrors(): Promise<string[]> {
  const dir = join(scratch, "strict-app");
  mkdirSync(join(dir, "src", "llm-runtime"), { recursive: true });
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "strict-app", private: true, type: "module" }));
  const tsconfig = {
    extends: "@tsconfig/strictest/tsconfig.json",
    compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", noEmit: true, types: ["node"] },
    include: ["src/**/*.ts"],
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
  for (const file of await runtimeFiles("ts")) {
    if (file.name.endsWith(".ts")) writeFileSync(join(dir, "src", "llm-runtime", file.name), file.contents);
  }
  const config = ts.getParsedCommandLineOfConfigFile(join(dir, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  const program = ts.createProgram({ rootNames: config!.fileNames, options: config!.options });
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const where = diagnostic.file ? `${diagnostic.file.fileName.slice(dir.length + 1)}: ` : "";
    return where + ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
  });
}

describe("the vendored runtime in a strict project", () => {
  it("compiles under @tsconfig/strictest", async () => {
    expect(await strictestErrors()).toEqual([]);
  }, 60_000);

  it("keeps the test-only hook out of what users import", () => {
    expect(Object.keys(runtime)).not.toContain("resetAsyncLlmClientForTests");
  });
});
