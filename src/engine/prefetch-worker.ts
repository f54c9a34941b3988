// The worker thread of prefetch.ts: lists the tree and reads its files while the main thread
// loads the parsers. Loads nothing heavy itself.
import { parentPort, workerData } from "node:worker_threads";
import { prefetchTree } from "./prefetch-tree.js";
import { readRawSync } from "./read-raw.js";

/** Files are read into shared buffers of this size, handed to the main thread without a copy. */
const BATCH_BYTES = 4 * 1024 * 1024;

const { rootDir } = workerData as { rootDir: string };
const batches: ArrayBuffer[] = [];
let used = 0;

function allocate(size: number): Buffer {
  let batch = batches.at(-1);
  if (!batch || used + size > batch.byteLength) {
    batch = new ArrayBuffer(Math.max(BATCH_BYTES, size));
    batches.push(batch);
    used = 0;
  }
  used += size;
  return Buffer.from(batch, used - size, size);
}

const tree = await prefetchTree(rootDir, (entry) => readRawSync(rootDir, entry, allocate));
// The text decoded here would be copied across; the main thread decodes the bytes it tests.
const reads = [...tree.reads.values()].map((raw) => (raw.kind === "read" ? { ...raw, text: undefined } : raw));
parentPort!.postMessage({ discovered: tree.discovered, reads }, batches);
