// The loader reads a target's compiler options without listing the files its tsconfig.json includes
// (src/engine/tsconfig-options.ts): the options must be ts-morph's, error for error.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getCompilerOptionsFromTsConfig } from "ts-morph";
import { afterAll, describe, expect, it } from "vitest";
import { tsConfigOptions } from "../../src/engine/tsconfig-options.js";

const root = mkdtempSync(join(tmpdir(), "llm-migrate-tsconfig-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function config(name: string, files: Record<string, string | Buffer>): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, name, path, ".."), { recursive: true });
    writeFileSync(join(root, name, path), text);
  }
  return join(root, name, "tsconfig.json");
}

const outcome = (read: () => unknown) => {
  try {
    return read();
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
};

const cases: Record<string, string> = {
  "paths, a comment and a trailing comma": config("paths", {
    "tsconfig.json": '{ "compilerOptions": { "outDir": "dist", "rootDir": "src", "baseUrl": ".", "paths": { "@/*": ["src/*"] }, // why\n "jsx": "react-jsx", }, "include": ["src/**/*"] }',
    "src/a.ts": "export const a = 1;\n",
  }),
  "extends, with paths relative to the base": config("extends", {
    "tsconfig.json": '{ "extends": "./base/tsconfig.base.json", "files": ["a.ts"], "compilerOptions": { "strict": false, "lib": ["dom", "es2020"] } }',
    "base/tsconfig.base.json": '{ "compilerOptions": { "strict": true, "outDir": "../out", "typeRoots": ["./types"], "module": "commonjs" } }',
  }),
  "extends a list, one missing": config("extends-list", {
    "tsconfig.json": '{ "extends": ["./one.json", "./missing.json"], "compilerOptions": { "noEmit": true } }',
    "one.json": '{ "compilerOptions": { "target": "es2019", "allowJs": true } }',
  }),
  "a byte order mark": config("bom", { "tsconfig.json": Buffer.from('\uFEFF{ "compilerOptions": { "module": "nodenext" } }') }),
  "broken JSON": config("broken", { "tsconfig.json": '{ "compilerOptions": { "target": "es2019", ' }),
};

describe("compiler options of the target's tsconfig.json", () => {
  it.each(Object.entries(cases))("are ts-morph's: %s", (_name, path) => {
    expect(outcome(() => tsConfigOptions(path))).toEqual(outcome(() => getCompilerOptionsFromTsConfig(path).options));
  });

  it("take what the config extends", () => {
    expect(tsConfigOptions(cases["extends, with paths relative to the base"]!)).toMatchObject({ strict: false, outDir: join(root, "extends", "out"), module: 1 });
  });
});
