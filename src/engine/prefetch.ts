import { resolve as resolvePath } from "node:path";
import { Worker } from "node:worker_threads";
import type { PrefetchedTree } from "./prefetch-tree.js";
import type { RawRead } from "./read-raw.js";

/**
 * Listing and reading a large tree takes about as long as loading the parsers (TypeScript,
 * ts-morph, tree-sitter), and neither needs the other: scan and apply start the listing and the
 * reads in a worker thread, on the second core, before they load the parsers, and the loader takes
 * the bytes from there (load.ts). The relevance test, which needs the framework adapters and so
 * the parsers, runs afterwards on the main thread. Any failure of the prefetch only means the
 * loader reads the tree itself, with the errors that reading gives.
 */
export interface Prefetch {
  /** The folder as the loader resolves it; the prefetch serves that folder only. */
  rootDir: string;
  /**
   * The listing and the reads (undefined when the prefetch failed), handed over once: the
   * prefetch keeps no hold on the bytes after that, so the loader alone decides what stays.
   */
  take(): Promise<PrefetchedTree | undefined>;
  /** Ends the worker, if it still runs (the command failed before it needed the reads). */
  stop(): void;
}

export function prefetchSources(dir: string): Prefetch {
  const rootDir = resolvePath(dir);
  // Run from the TypeScript sources (the tests), there is no JavaScript for a worker to load.
  if (!import.meta.url.endsWith(".js")) return handOver(rootDir, prefetchHere(rootDir), () => {});
  let worker: Worker;
  try {
    worker = new Worker(new URL("./prefetch-worker.js", import.meta.url), { workerData: { rootDir } });
  } catch {
    return handOver(rootDir, Promise.resolve(undefined), () => {});
  }
  const tree = new Promise<PrefetchedTree | undefined>((resolve) => {
    // Let go of the promise once settled: the worker's listeners outlive it, and it holds the bytes.
    let settle: typeof resolve | undefined = resolve;
    const done = (value: PrefetchedTree | undefined) => {
      settle?.(value);
      settle = undefined;
    };
    worker.once("message", (message: PrefetchedTree & { reads: RawRead[] }) => done(received(message)));
    worker.once("error", () => done(undefined));
    worker.once("exit", () => done(undefined));
  });
  return handOver(rootDir, tree, () => void worker.terminate());
}

function handOver(rootDir: string, pending: Promise<PrefetchedTree | undefined>, stop: () => void): Prefetch {
  let tree: Promise<PrefetchedTree | undefined> | undefined = pending;
  const take = () => {
    const taken = tree ?? Promise.resolve(undefined);
    tree = undefined;
    return taken;
  };
  return { rootDir, take, stop };
}

async function prefetchHere(rootDir: string): Promise<PrefetchedTree | undefined> {
  try {
    const [{ prefetchTree }, { readRaw }] = await Promise.all([import("./prefetch-tree.js"), import("./read-raw.js")]);
    return await prefetchTree(rootDir, (entry) => readRaw(rootDir, entry));
  } catch {
    return undefined;
  }
}

/** The bytes arrive as plain Uint8Arrays over the worker's buffers: made Buffers again, without a copy. */
function received(message: { discovered: PrefetchedTree["discovered"]; reads: RawRead[] }): PrefetchedTree {
  const reads = new Map<string, RawRead>();
  for (const raw of message.reads) {
    reads.set(raw.path, raw.kind === "read" ? { ...raw, bytes: Buffer.from(raw.bytes.buffer, raw.bytes.byteOffset, raw.bytes.byteLength) } : raw);
  }
  return { discovered: message.discovered, reads };
}
