/**
 * Exit codes of `llm-migrate`. The table below is copied into the README.
 *
 * | code | meaning |
 * |---|---|
 * | 0 | done, or nothing to do, or already migrated |
 * | 1 | `apply --check` found changes still to make |
 * | 2 | usage error: unknown command or option, a bad number |
 * | 3 | bad input: a missing path, not a directory, a file that does not parse, a binary file, a symlink out of the tree, a read-only file (named in a one-line error; nothing was written) |
 * | 4 | refused for safety: a dirty git tree without `--allow-dirty`, another run holds the lock, `rollback` finds a file changed since the run, nothing to roll back |
 * | 5 | a write failed; every file written before it was restored |
 * | 6 | `verify`: a check failed (the report names it and says why) |
 * | 7 | an LLM call is left for a human (`apply`, `scan --check`); each is listed at `file:line` |
 * | 70 | a bug in llm-migrate (set `LLM_MIGRATE_DEBUG=1` for the stack trace) |
 */
export const EXIT = {
  ok: 0,
  changesPending: 1,
  usage: 2,
  badInput: 3,
  refused: 4,
  writeFailed: 5,
  verifyFailed: 6,
  llmCallsLeft: 7,
  bug: 70,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Shown at the end of `--help`. */
export const EXIT_CODES_HELP = `
Exit codes:
  0   done, nothing to do, or already migrated
  1   --check found changes still to make (calls apply would gate)
  2   usage error
  3   bad input (missing path, not a directory, a file that does not parse, binary, symlink out of the tree, read-only)
  4   refused for safety (dirty git tree, another run holds the lock, a file changed since the run, nothing to roll back)
  5   a write failed; what was written was restored
  6   verify: a check failed
  7   an LLM call is left for a human (apply, scan --check); each is listed at file:line
  70  a bug in llm-migrate (LLM_MIGRATE_DEBUG=1 prints the stack trace)
`;
