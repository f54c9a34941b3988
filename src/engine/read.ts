import pLimit from "p-limit";
import type { Finding } from "../../transforms/types.js";
import type { SourceEntry } from "./discover.js";
import { engineFinding } from "./findings.js";
import { readRaw, type RawRead } from "./read-raw.js";

/** Reads at a time: enough to keep the disk and the thread pool busy, few enough to bound memory. */
const PARALLEL_READS = 16;

/**
 * Bytes of files that mention no relevant word, kept after the text scan in case the import
 * graph asks for them; past this many, they are dropped and read again if needed, so memory
 * stays bounded on any tree.
 */
const KEPT_BYTES_BUDGET = 64 * 1024 * 1024;

/** One source file after its single read: what the text says, before any parse. */
export interface ReadSource {
  path: string;
  mode: number;
  /** Its bytes, unless dropped for the memory budget (then read again when it is parsed). */
  bytes?: Buffer;
  /** Mentions a word that makes it worth parsing on its own. */
  mentions: boolean;
  /** The relative module specifiers it imports, requires or re-exports from. */
  imports: string[];
}

export interface ReadResult {
  sources: ReadSource[];
  findings: Finding[];
}

/**
 * Reads every file once, a bounded number at a time, and scans its text: binary and oversized
 * files are skipped with a finding, the rest are tested for the relevant words and their
 * relative imports listed. Nothing is parsed here. Files the prefetch read already (prefetch.ts)
 * are taken from `prefetched` instead of being read again.
 */
export async function readSources(
  rootDir: string,
  entries: readonly SourceEntry[],
  mightMatter: (text: string) => boolean,
  onRead: (count: number) => void = () => {},
  prefetched: ReadonlyMap<string, RawRead> = new Map(),
): Promise<ReadResult> {
  const limit = pLimit(PARALLEL_READS);
  const findings: Finding[] = [];
  let kept = 0;
  let read = 0;
  const scan = (raw: RawRead): ReadSource | undefined => {
    onRead(++read);
    if (raw.kind === "gone") return undefined;
    if (raw.kind === "skipped") {
      findings.push(engineFinding(raw.code, raw.path));
      return undefined;
    }
    const { bytes } = raw;
    const mentions = mightMatter(raw.text ?? bytes.toString("utf8"));
    const keep = mentions || kept + bytes.length <= KEPT_BYTES_BUDGET;
    if (keep && !mentions) kept += bytes.length;
    return { path: raw.path, mode: raw.mode, bytes: keep ? bytes : undefined, mentions, imports: raw.imports };
  };
  const results = await Promise.all(
    entries.map((entry) => {
      const raw = prefetched.get(entry.path);
      return raw ? scan(raw) : limit(async () => scan(await readRaw(rootDir, entry)));
    }),
  );
  findings.sort((a, b) => ((a.file ?? "") < (b.file ?? "") ? -1 : 1));
  return { sources: results.filter((source): source is ReadSource => source !== undefined), findings };
}
