import { createHash } from "node:crypto";

/** How a file's bytes were laid out, so that rewritten text goes back the same way. */
export interface TextStyle {
  bom: boolean;
  /** "\r\n" only when every line break of the original was CRLF. */
  eol: "\n" | "\r\n";
  /**
   * "latin1" when the bytes are not valid UTF-8 (a Latin-1 or Windows-1252 file): read one byte
   * per character so that every byte the migration does not edit goes back exactly as it was.
   */
  encoding: "utf8" | "latin1";
}

const BOM = "\uFEFF";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function isUtf8(bytes: Buffer): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

export function decodeText(bytes: Buffer): { text: string; style: TextStyle } {
  const encoding = isUtf8(bytes) ? "utf8" : "latin1";
  let text = bytes.toString(encoding);
  const bom = text.startsWith(BOM);
  if (bom) text = text.slice(1);
  const breaks = text.match(/\r?\n/g) ?? [];
  const eol = breaks.length > 0 && breaks.every((b) => b === "\r\n") ? "\r\n" : "\n";
  return { text, style: { bom, eol, encoding } };
}

/** Encodes text written by a transform (which may use "\n" anywhere) in the original's style. */
export function encodeText(text: string, style: TextStyle): Buffer {
  let out = text.startsWith(BOM) ? text.slice(1) : text;
  if (style.eol === "\r\n") out = out.replace(/\r?\n/g, "\r\n");
  if (style.encoding === "latin1") {
    // Latin-1 holds U+0000-U+00FF only; anything beyond would be written as "?" or worse.
    const beyond = /[^\u0000-\u00ff]/.exec(out);
    if (beyond) throw new Error(`the migrated text has ${JSON.stringify(beyond[0])}, which this non-UTF-8 file cannot hold`);
    return Buffer.from(out, "latin1");
  }
  return Buffer.from(style.bom ? BOM + out : out, "utf8");
}

/** Text for showing bytes (the diff): decoded the way the engine reads them, so no byte is hidden. */
export function textOf(bytes: Buffer): string {
  const { text, style } = decodeText(bytes);
  return style.bom ? BOM + text : text;
}

export function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function looksBinary(bytes: Buffer): boolean {
  return bytes.includes(0);
}
