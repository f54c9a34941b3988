import { close, closeSync, fstat, fstatSync, open, openSync, read as readWithCallback, readFile as readFileWithCallback, readSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { isPythonFile, MAX_SOURCE_BYTES, type SourceEntry } from "./discover.js";
import { pythonImportSpecifiers } from "./python-imports.js";
import { looksBinary } from "./text.js";

/**
 * The part of reading a source file that needs no parser and no relevance test: its bytes, and
 * what its text imports. It loads nothing heavy, so it can run before the parsers are loaded, in
 * a worker thread (see prefetch.ts).
 */

/** What one read of a listed file gave. */
export type RawRead =
  | { path: string; kind: "gone" }
  | { path: string; kind: "skipped"; code: "skipped-large-file" | "skipped-binary-file" }
  | {
      path: string;
      kind: "read";
      mode: number;
      bytes: Buffer;
      /** The relative module specifiers it imports, requires or re-exports from. */
      imports: string[];
      /** Its bytes decoded as UTF-8, when the read decoded them already. */
      text?: string;
    };

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

/** The bytes read (undefined: larger than the limit, not read) judged and scanned for imports. */
function rawRead(entry: SourceEntry, bytes: Buffer | undefined, mode: number): RawRead {
  // It may have grown since it was listed.
  if (!bytes || bytes.length > MAX_SOURCE_BYTES) return { path: entry.path, kind: "skipped", code: "skipped-large-file" };
  if (looksBinary(bytes)) return { path: entry.path, kind: "skipped", code: "skipped-binary-file" };
  const text = bytes.toString("utf8");
  const imports = isPythonFile(entry.path) ? pythonImportSpecifiers(entry.path, text) : relativeImports(text);
  return { path: entry.path, kind: "read", mode, bytes, imports, text };
}

/** The callback form: a third of the CPU of fs/promises' FileHandle-based readFile on many small files. */
const readFile = promisify(readFileWithCallback);
const openFile = promisify(open);
const statOpen = promisify(fstat);
const readInto = promisify(readWithCallback);
const closeFile = promisify(close);

/** Deleted since the listing: left out, as a listed file that is gone is. */
const isGone = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === "ENOENT";

/**
 * Reads one listed file on the thread pool. A file the listing did not stat gets its size and mode
 * from the open file (open + fstat + read + close, the system calls readFile makes anyway), so
 * listing needs no stat of each file: on 5,000 files that was a fifth of a second.
 */
export async function readRaw(rootDir: string, entry: SourceEntry): Promise<RawRead> {
  if (entry.size !== undefined && entry.size > MAX_SOURCE_BYTES) return { path: entry.path, kind: "skipped", code: "skipped-large-file" };
  const path = join(rootDir, entry.path);
  if (entry.mode !== undefined) return rawRead(entry, await readFile(path), entry.mode);
  const fd = await openFile(path, "r").catch((error: unknown) => {
    if (isGone(error)) return undefined;
    throw error;
  });
  if (fd === undefined) return { path: entry.path, kind: "gone" };
  try {
    const info = await statOpen(fd);
    if (info.size > MAX_SOURCE_BYTES) return rawRead(entry, undefined, info.mode & 0o7777);
    const bytes = Buffer.allocUnsafe(info.size);
    let length = 0;
    while (length < bytes.length) {
      const { bytesRead } = await readInto(fd, bytes, length, bytes.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return rawRead(entry, bytes.subarray(0, length), info.mode & 0o7777);
  } finally {
    await closeFile(fd);
  }
}

/**
 * The same read with blocking calls, for a worker thread, where blocking holds up no one and
 * costs a fraction of the promise and callback round trips. `allocate` gives the buffer a file is
 * read into (the worker packs many files into one, to hand them over in one piece), so every file
 * is read through open + fstat, whether the listing stat-ed it or not.
 */
export function readRawSync(rootDir: string, entry: SourceEntry, allocate: (size: number) => Buffer): RawRead {
  if (entry.size !== undefined && entry.size > MAX_SOURCE_BYTES) return { path: entry.path, kind: "skipped", code: "skipped-large-file" };
  let fd: number;
  try {
    fd = openSync(join(rootDir, entry.path), "r");
  } catch (error) {
    if (isGone(error)) return { path: entry.path, kind: "gone" };
    throw error;
  }
  try {
    const info = fstatSync(fd);
    const mode = entry.mode ?? info.mode & 0o7777;
    if (info.size > MAX_SOURCE_BYTES) return rawRead(entry, undefined, mode);
    const bytes = allocate(info.size);
    let length = 0;
    while (length < bytes.length) {
      const bytesRead = readSync(fd, bytes, length, bytes.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return rawRead(entry, bytes.subarray(0, length), mode);
  } finally {
    closeSync(fd);
  }
}
