// The runtime is vendored into users' servers: it must type-check there under strict settings in
// ESM and CommonJS projects, and run after a plain ts.transpileModule to CommonJS or ESM.
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { useStubUpstream } from "./support.js";

const upstream = useStubUpstream();
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const runtimeDir = join(repoRoot, "runtime");
const runtimeFiles = readdirSync(runtimeDir).filter((name) => name.endsWith(".ts"));
const scratch = mkdtempSync(join(tmpdir(), "llm-runtime-portability-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A user project with the runtime vendored as llm-runtime/ and the repo's node_modules linked in. */
function userProject(name: string, packageType: "module" | "commonjs"): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, "llm-runtime"), { recursive: true });
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type: packageType }));
  return dir;
}

function typeErrors(name: string, packageType: "module" | "commonjs", options: ts.CompilerOptions): string[] {
  const dir = userProject(name, packageType);
  for (const file of runtimeFiles) copyFileSync(join(runtimeDir, file), join(dir, "llm-runtime", file));
  const program = ts.createProgram({
    rootNames: runtimeFiles.map((file) => join(dir, "llm-runtime", file)),
    options: { strict: true, noEmit: true, skipLibCheck: true, types: ["node"], ...options },
  });
  return ts
    .getPreEmitDiagnostics(program)
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
}

const runAgainstStub = promisify(execFile);

/** Transpile each runtime file alone (as a bundler or ts-node --transpile-only would) into a project. */
function transpiledProject(name: string, packageType: "module" | "commonjs"): string {
  const dir = userProject(name, packageType);
  const module = packageType === "module" ? ts.ModuleKind.ESNext : ts.ModuleKind.CommonJS;
  for (const file of runtimeFiles) {
    const source = readFileSync(join(runtimeDir, file), "utf8");
    const output = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    writeFileSync(join(dir, "llm-runtime", file.replace(/\.ts$/, ".js")), output.outputText);
  }
  return dir;
}

const callScript = (load: string) => `
${load}
(async () => {
  const client = runtime.getAsyncLlmClient({ poolSize: 2 });
  const replies = await Promise.all(["one", "two", "three"].map((text) => client.generateResponseAsync(text)));
  const queueFull = new runtime.LlmQueueFullError({ maxQueue: 1, retryAfterMs: 1000 });
  console.log(JSON.stringify({
    replies: replies.map(runtime.extractOutputText),
    requestsTotal: client.getMetrics().requestsTotal,
    queueFullIsLlmError: queueFull instanceof runtime.LlmError,
    http: runtime.llmHttpError(queueFull).status,
  }));
})().catch((err) => { console.error(err); process.exit(1); });
`;

async function callFrom(dir: string, script: string) {
  const { stdout } = await runAgainstStub(process.execPath, ["-e", script], {
    cwd: dir,
    env: { PATH: process.env.PATH, OPENAI_BASE_URL: upstream.stub().url, LLM_POOL_SIZE: "2" },
  });
  return JSON.parse(stdout);
}

const expectedCall = {
  replies: ["echo: one", "echo: two", "echo: three"],
  requestsTotal: 3,
  queueFullIsLlmError: true,
  http: 503,
};

describe("the runtime in a user's project", () => {
  it("type-checks under strict ESM NodeNext", () => {
    expect(typeErrors("esm-nodenext", "module", { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022 })).toEqual([]);
  });

  it.each([true, false])("type-checks under strict CommonJS with moduleResolution node, esModuleInterop %s, lib ES2020", (esModuleInterop) => {
    expect(
      typeErrors(`cjs-interop-${esModuleInterop}`, "commonjs", {
        module: ts.ModuleKind.CommonJS,
        moduleResolution: ts.ModuleResolutionKind.Node10,
        esModuleInterop,
        target: ts.ScriptTarget.ES2020,
        lib: ["lib.es2020.d.ts"],
      }),
    ).toEqual([]);
  });

  it("runs as CommonJS after ts.transpileModule: require()d from node, one gated call against the stub", async () => {
    const dir = transpiledProject("cjs-transpiled", "commonjs");
    expect(readFileSync(join(dir, "llm-runtime", "index.js"), "utf8")).toContain("require(");
    expect(await callFrom(dir, callScript(`const runtime = require("./llm-runtime/index.js");`))).toEqual(expectedCall);
    expect(upstream.stub().stats().peakInFlight).toBeLessThanOrEqual(2);
  });

  it("runs as ESM after ts.transpileModule", async () => {
    const dir = transpiledProject("esm-transpiled", "module");
    const script = callScript(`let runtime;`).replace("(async () => {", `(async () => {\n  runtime = await import("./llm-runtime/index.js");`);
    expect(await callFrom(dir, script.replace("process.exit(1)", "process.exitCode = 1"))).toEqual(expectedCall);
  });
});
