import { close, fstat, open, read as readWithCallback, readFile as readFileWithCallback } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import pLimit from "p-limit";
import type { Finding } from "../../transforms/types.js";
import { isPythonFile, type SourceEntry } from "./discover.js";
import { engineFinding } from "./findings.js";
import { pythonImportSpecifiers } from "./python-imports.js";
import { MAX_SOURCE_BYTES } from "./relevance.js";
import { looksBinary } from "./text.js";

/** The callback form: a third of the CPU of fs/promises' FileHandle-based readFile on many small files. */
const readFile = promisify(readFileWithCallback);

const openFile = promisify(open);
const statOpen = promisify(fstat);
const readInto = promisify(readWithCallback);
const closeFile = promisify(close);

/**
 * A file the listing did not stat: its size and mode from the open file, and its bytes unless it
 * is too large. The same system calls as readFile (which reads as many bytes as the stat said),
 * and no stat of its own while listing: on 5,000 files that was a fifth of a second.
 */
async function readUnstated(path: string): Promise<{ bytes?: Buffer; mode: number } | "gone"> {
  // Deleted since the listing: left out, as a listed file that is gone is.
  const fd = await openFile(path, "r").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (fd === undefined) return "gone";
  try {
    const info = await statOpen(fd);
    const mode = info.mode & 0o7777;
    if (info.size > MAX_SOURCE_BYTES) return { mode };
    const bytes = Buffer.allocUnsafe(info.size);
    let length = 0;
    while (length < bytes.length) {
      const { bytesRead } = await readInto(fd, bytes, length, bytes.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return { bytes: bytes.subarray(0, length), mode };
  } finally {
    await closeFile(fd);
  }
}

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
 * `import … from "./x"`, `export … from "../x"`, `import("./x")`, `require("./x")`, `import "./x"`:
 * the relative specifiers only, as those are the ones that name files of the tree.
 */
const RELATIVE_IMPORT = /\b(?:from|import|require)\s*\(?\s*["'](\.\.?\/[^"'\n]*)["']/g;

export function relativeImports(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(RELATIVE_IMPORT)) found.push(match[1]!);
  return found;
}

/**
 * Reads every file once, a bounded number at a time, and scans its text: binary and oversized
 * files are skipped with a finding, the rest are tested for the relevant words and their
 * relative imports listed. Nothing is parsed here.
 */
export async function readSources(
  rootDir: string,
  entries: readonly SourceEntry[],
  mightMatter: (text: string) => boolean,
  onRead: (count: number) => void = () => {},
): Promise<ReadResult> {
  const limit = pLimit(PARALLEL_READS);
  const findings: Finding[] = [];
  let kept = 0;
  let read = 0;
  const results = await Promise.all(
    entries.map((entry) =>
      limit(async (): Promise<ReadSource | undefined> => {
        if (entry.size !== undefined && entry.size > MAX_SOURCE_BYTES) {
          findings.push(engineFinding("skipped-large-file", entry.path));
          return undefined;
        }
        const listed = entry.mode === undefined ? await readUnstated(join(rootDir, entry.path)) : undefined;
        if (listed === "gone") return undefined;
        const bytes = listed ? listed.bytes : await readFile(join(rootDir, entry.path));
        const mode = listed?.mode ?? entry.mode ?? 0o644;
        onRead(++read);
        if (!bytes) {
          findings.push(engineFinding("skipped-large-file", entry.path));
          return undefined;
        }
        // It may have grown since it was listed.
        if (bytes.length > MAX_SOURCE_BYTES) {
          findings.push(engineFinding("skipped-large-file", entry.path));
          return undefined;
        }
        if (looksBinary(bytes)) {
          findings.push(engineFinding("skipped-binary-file", entry.path));
          return undefined;
        }
        const text = bytes.toString("utf8");
        const mentions = mightMatter(text);
        const keep = mentions || kept + bytes.length <= KEPT_BYTES_BUDGET;
        if (keep && !mentions) kept += bytes.length;
        return { path: entry.path, mode, bytes: keep ? bytes : undefined, mentions, imports: isPythonFile(entry.path) ? pythonImportSpecifiers(entry.path, text) : relativeImports(text) };
      }),
    ),
  );
  findings.sort((a, b) => ((a.file ?? "") < (b.file ?? "") ? -1 : 1));
  return { sources: results.filter((source): source is ReadSource => source !== undefined), findings };
}
