import { createHash } from "node:crypto";

/** How a file's bytes were laid out, so that rewritten text goes back the same way. */
export interface TextStyle {
  bom: boolean;
  /** "\r\n" only when every line break of the original was CRLF. */
  eol: "\n" | "\r\n";
}

const BOM = "\uFEFF";

export function decodeText(bytes: Buffer): { text: string; style: TextStyle } {
  let text = bytes.toString("utf8");
  const bom = text.startsWith(BOM);
  if (bom) text = text.slice(1);
  const breaks = text.match(/\r?\n/g) ?? [];
  const eol = breaks.length > 0 && breaks.every((b) => b === "\r\n") ? "\r\n" : "\n";
  return { text, style: { bom, eol } };
}

/** Encodes text written by a transform (which may use "\n" anywhere) in the original's style. */
export function encodeText(text: string, style: TextStyle): Buffer {
  let out = text.startsWith(BOM) ? text.slice(1) : text;
  if (style.eol === "\r\n") out = out.replace(/\r?\n/g, "\r\n");
  return Buffer.from(style.bom ? BOM + out : out, "utf8");
}

export function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function looksBinary(bytes: Buffer): boolean {
  return bytes.includes(0);
}
