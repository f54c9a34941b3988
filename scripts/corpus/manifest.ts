/**
 * The development corpus manifest (corpus/manifest.json): which public backends, at which commit
 * and subfolder, and for each LLM call in a request path what llm-migrate is expected to do with
 * it. The manifest holds no code from those repositories, only where to find it.
 */
import { readFileSync } from "node:fs";

/**
 * What should happen to one call:
 * - `gated`: the call goes through the shared gate after `apply`;
 * - `left:<CODE>`: the call stays as is and the report names it with that reason code
 *   (several codes may be accepted, `left:A|B`; `left` alone accepts any code);
 * - `per-request`: the client's credential comes from the request, so the call is left by design
 *   (a PER_REQUEST_CLIENT call site or finding in the same file).
 * Several outcomes may be accepted, separated by ` or `.
 */
export type Expectation =
  | { kind: "gated" }
  | { kind: "left"; reasons: readonly string[] }
  | { kind: "per-request" };

export interface ExpectedSite {
  /** Path relative to the checkout (the manifest entry's subfolder), forward slashes. */
  file: string;
  line: number;
  /** The callee as written at that line, e.g. `openai.chat.completions.create` (used to follow line shifts). */
  call: string;
  expect: readonly Expectation[];
  /** The text of `expect` as written in the manifest, for the table. */
  expectText: string;
  /** Other places where a report of this call counts, e.g. the line of the wrapper call (`file:line`). */
  alsoAt: readonly { file: string; line: number }[];
  why?: string;
}

export interface CorpusEntry {
  /** Folder name of the checkout under the checkouts folder. */
  name: string;
  /** owner/name on GitHub. */
  repo: string;
  commit: string;
  /** Subfolder of the repository that is the backend ("" for the root). */
  subdir: string;
  language: "typescript" | "python";
  shape: string;
  sites: readonly ExpectedSite[];
  /** Files or folders (ending in "/") that apply must leave byte for byte as they were. */
  controls: readonly string[];
}

export class ManifestError extends Error {}

function fail(where: string, message: string): never {
  throw new ManifestError(`corpus manifest: ${where}: ${message}`);
}

function str(value: unknown, where: string, field: string, allowEmpty = false): string {
  if (typeof value !== "string" || (!allowEmpty && value.trim() === "")) fail(where, `"${field}" must be a non-empty string`);
  return value;
}

/** Parses one `expect` text, e.g. `gated`, `left:PY_SYNC_ROUTE`, `gated or left:STREAMING|SYNC_CALLER`. */
export function parseExpectation(text: string, where: string): Expectation[] {
  return text.split(/\s+or\s+/).map((part) => {
    const item = part.trim();
    if (item === "gated") return { kind: "gated" } as const;
    if (item === "per-request") return { kind: "per-request" } as const;
    if (item === "left") return { kind: "left", reasons: [] } as const;
    const left = /^left:([A-Z_|]+)$/.exec(item);
    if (left) return { kind: "left", reasons: left[1]!.split("|").filter(Boolean) } as const;
    return fail(where, `unknown expectation "${item}" (gated, per-request, left or left:CODE)`);
  });
}

/** Parses `file:line` (the file may itself contain colons only before the last one). */
export function parseLocation(text: string, where: string): { file: string; line: number } {
  const match = /^(.+):(\d+)$/.exec(text);
  if (!match) fail(where, `"${text}" is not file:line`);
  return { file: match[1]!, line: Number(match[2]) };
}

function parseSite(raw: unknown, where: string): ExpectedSite {
  if (typeof raw !== "object" || raw === null) fail(where, "a site must be an object");
  const site = raw as Record<string, unknown>;
  const at = parseLocation(str(site["at"], where, "at"), where);
  const expectText = str(site["expect"], where, "expect");
  const also = site["alsoAt"] ?? [];
  if (!Array.isArray(also)) fail(where, `"alsoAt" must be a list of file:line`);
  return {
    ...at,
    call: str(site["call"], where, "call"),
    expect: parseExpectation(expectText, where),
    expectText,
    alsoAt: also.map((item) => parseLocation(str(item, where, "alsoAt"), where)),
    ...(typeof site["why"] === "string" ? { why: site["why"] } : {}),
  };
}

export function parseManifest(json: unknown): CorpusEntry[] {
  if (typeof json !== "object" || json === null || !Array.isArray((json as { repos?: unknown }).repos)) {
    fail("top level", `expected { "repos": [...] }`);
  }
  const seen = new Set<string>();
  return (json as { repos: unknown[] }).repos.map((raw, index) => {
    if (typeof raw !== "object" || raw === null) fail(`repos[${index}]`, "must be an object");
    const entry = raw as Record<string, unknown>;
    const name = str(entry["name"], `repos[${index}]`, "name");
    const where = name;
    if (!/^[\w.-]+$/.test(name)) fail(where, "name must be a plain folder name");
    if (seen.has(name)) fail(where, "duplicate name");
    seen.add(name);
    const source = /^([\w.-]+\/[\w.-]+)@([0-9a-f]{40})$/.exec(str(entry["source"], where, "source"));
    if (!source) fail(where, `"source" must be owner/name@<40-hex commit>`);
    const language = entry["language"];
    if (language !== "typescript" && language !== "python") fail(where, `"language" must be typescript or python`);
    const sites = entry["sites"];
    if (!Array.isArray(sites)) fail(where, `"sites" must be a list (empty when the backend has no LLM call)`);
    const controls = entry["controls"] ?? [];
    if (!Array.isArray(controls)) fail(where, `"controls" must be a list of paths`);
    return {
      name,
      repo: source[1]!,
      commit: source[2]!,
      subdir: str(entry["subdir"] ?? "", where, "subdir", true).replace(/^\/+|\/+$/g, ""),
      language,
      shape: str(entry["shape"], where, "shape"),
      sites: sites.map((site, i) => parseSite(site, `${where} sites[${i}]`)),
      controls: controls.map((control) => str(control, where, "controls")),
    };
  });
}

export function loadManifest(path: string): CorpusEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ManifestError(`corpus manifest: cannot read ${path}: ${(error as Error).message}`);
  }
  return parseManifest(json);
}
