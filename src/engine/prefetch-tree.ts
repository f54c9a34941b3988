import { discoverSourceFiles, type DiscoveredFiles, type SourceEntry } from "./discover.js";
import type { RawRead } from "./read-raw.js";

/** The listing of a tree and the raw reads of its files, made before the parsers are loaded. */
export interface PrefetchedTree {
  discovered: DiscoveredFiles;
  /** By path; a listed file missing here was not read ahead (past the byte budget) and is read as usual. */
  reads: Map<string, RawRead>;
}

/**
 * Bytes read ahead at most. They are all held until the relevance test can run, so the prefetch
 * stops here and the loader reads the rest itself, dropping what it need not keep (read.ts).
 */
export const PREFETCH_BYTES = 64 * 1024 * 1024;

/** Lists the tree as the loader would and reads its files in order, up to the byte budget. */
export async function prefetchTree(
  rootDir: string,
  read: (entry: SourceEntry) => RawRead | Promise<RawRead>,
  budget = PREFETCH_BYTES,
): Promise<PrefetchedTree> {
  const discovered = await discoverSourceFiles(rootDir);
  const reads = new Map<string, RawRead>();
  let bytes = 0;
  for (const entry of discovered.files) {
    if (bytes >= budget) break;
    const raw = await read(entry);
    if (raw.kind === "read") bytes += raw.bytes.length;
    reads.set(entry.path, raw);
  }
  return { discovered, reads };
}
