import type { Finding } from "../../transforms/types.js";

/** What the engine itself tells the user, by stable code (the transforms' codes live in transforms/). */
export const ENGINE_FINDING_CODES = {
  "skipped-large-file": "larger than 1 MiB, not read",
  "skipped-binary-file": "contains a NUL byte, not read",
  "skipped-symlink": "a symlink; llm-migrate neither reads nor writes through symlinks",
  "skipped-symlink-out-of-tree": "a symlink to a file outside the folder, not read",
  "syntax-error": "does not parse, left unchanged",
  "tsconfig-unreadable": "tsconfig.json could not be read; default compiler options used",
  "no-package-json": "no package.json found: add openai and prom-client to the server's dependencies",
  "not-formatted": "Prettier failed on the migrated text; left as the migration wrote it",
  "openai-range-raised": "openai range raised to what the runtime's new path needs (responses.create, openai 4.87+)",
  "openai-too-old": "openai is older than 4.x: the new path for the wrapper's calls needs openai 4.87+; upgrade it, or keep those calls on the legacy path (FORCE_LEGACY_LLM)",
  "package-json-outside-folder": "the package.json that governs these files is outside the folder; add prom-client (and openai, if the runtime calls it) there",
  "dockerfile-copies-some-files": "this Dockerfile copies only some files; the image will lack the vendored runtime: add a COPY for",
  "runtime-repaired": "the vendored runtime of an earlier migration was missing files; they are put back",
} as const;

export type EngineFindingCode = keyof typeof ENGINE_FINDING_CODES;

export function engineFinding(code: EngineFindingCode, file?: string, detail?: string, line?: number): Finding {
  const kind = code === "skipped-large-file" || code === "skipped-symlink" ? "info" : "warning";
  const message = detail ? `${ENGINE_FINDING_CODES[code]}: ${detail}` : ENGINE_FINDING_CODES[code];
  return { code, kind, message, ...(file === undefined ? {} : { file }), ...(line === undefined ? {} : { line }) };
}
