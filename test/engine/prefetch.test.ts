// scan and apply list and read the tree in a worker thread while the parsers load (src/engine/prefetch.ts):
// what the loader gets from there must be what it would have read itself.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrefetchedTree } from "../../src/engine/prefetch-tree.js";
import { prefetchTree } from "../../src/engine/prefetch-tree.js";
import { pythonImportSpecifiers } from "../../src/engine/python-imports.js";
import { readRaw, readRawSync } from "../../src/engine/read-raw.js";
import { readSources } from "../../src/engine/read.js";
import { repoRoot } from "./helpers.js";

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "llm-migrate-prefetch-"));
  mkdirSync(join(root, "src"));
  mkdirSync(join(root, "app"));
  writeFileSync(join(root, "src", "server.ts"), 'import { llm } from "./llm.js";\nimport "./util.js";\n');
  writeFileSync(join(root, "src", "llm.ts"), 'import OpenAI from "openai";\nexport const llm = new OpenAI();\n');
  writeFileSync(join(root, "src", "util.ts"), "export const add = (a: number, b: number) => a + b;\n");
  writeFileSync(join(root, "src", "bundle.js"), "x".repeat(1024 * 1024 + 1));
  writeFileSync(join(root, "src", "data.js"), Buffer.from([0x61, 0x00, 0x62]));
  writeFileSync(join(root, "src", "empty.js"), "");
  writeFileSync(join(root, "app", "main.py"), "from .views import index\nimport openai\n", { mode: 0o755 });
  symlinkSync(join(root, "src", "llm.ts"), join(root, "src", "alias.ts"));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** One reader per thread kind: the worker's blocking reads into shared buffers, and the thread pool's. */
const blocking = (budget?: number) => prefetchTree(root, (entry) => readRawSync(root, entry, (size) => Buffer.alloc(size)), budget);
const pooled = () => prefetchTree(root, (entry) => readRaw(root, entry));
const mentionsLlm = (text: string) => /llm|openai/i.test(text);

describe("prefetch of the tree", () => {
  it("reads every listed file as the loader does, with either kind of read", async () => {
    const [sync, async] = await Promise.all([blocking(), pooled()]);
    const withoutText = (tree: PrefetchedTree) => [...tree.reads.values()].map((raw) => (raw.kind === "read" ? { ...raw, text: undefined } : raw));
    expect(withoutText(sync)).toEqual(withoutText(async));
    expect(sync.discovered).toEqual(async.discovered);
    expect(sync.discovered.symlinks).toEqual([{ path: "src/alias.ts", outOfTree: false }]);
    expect(Object.fromEntries([...sync.reads].map(([path, raw]) => [path, raw.kind === "read" ? raw.imports : raw.kind === "skipped" ? raw.code : raw.kind]))).toEqual({
      "app/main.py": pythonImportSpecifiers("app/main.py", "from .views import index\nimport openai\n"),
      "src/bundle.js": "skipped-large-file",
      "src/data.js": "skipped-binary-file",
      "src/empty.js": [],
      "src/llm.ts": [],
      "src/server.ts": ["./llm.js", "./util.js"],
      "src/util.ts": [],
    });
  });

  it("gives the loader the same sources and findings as reading the tree itself, past the byte budget too", async () => {
    const tree = await blocking();
    const itself = await readSources(root, tree.discovered.files, mentionsLlm);
    expect(await readSources(root, tree.discovered.files, mentionsLlm, undefined, tree.reads)).toEqual(itself);
    // A budget of 1 byte: the first file with bytes is read ahead, the rest by the loader.
    const partly = await blocking(1);
    expect(partly.reads.size).toBeLessThan(tree.reads.size);
    expect(await readSources(root, tree.discovered.files, mentionsLlm, undefined, partly.reads)).toEqual(itself);
  });

  it("runs in a worker thread in the built CLI, handing the bytes over intact", async () => {
    // The worker needs JavaScript: the build's (npm ci runs it as `prepare`).
    const built = (await import(join(repoRoot, "dist", "src", "engine", "prefetch.js"))) as typeof import("../../src/engine/prefetch.js");
    const prefetch = built.prefetchSources(root);
    const [fromWorker, here] = await Promise.all([prefetch.take(), pooled()]);
    prefetch.stop();
    expect(fromWorker).toBeDefined();
    const plain = (tree: PrefetchedTree) => [...tree.reads.values()].map((raw) => (raw.kind === "read" ? { ...raw, bytes: raw.bytes.toString("latin1"), text: undefined } : raw));
    expect(plain(fromWorker!)).toEqual(plain(here));
    expect([...fromWorker!.reads.values()].every((raw) => raw.kind !== "read" || Buffer.isBuffer(raw.bytes))).toBe(true);
    expect(fromWorker!.discovered).toEqual(here.discovered);
  });

  it("fails quietly for a folder that does not exist, so the loader reports it as always", async () => {
    const built = (await import(join(repoRoot, "dist", "src", "engine", "prefetch.js"))) as typeof import("../../src/engine/prefetch.js");
    const prefetch = built.prefetchSources(join(root, "missing"));
    expect(await prefetch.take()).toBeUndefined();
    prefetch.stop();
  });
});
