/**
 * Errors the user can act on. Each carries the path it is about, relative to the target folder
 * ("." for the folder itself), and the exit code the CLI returns (see src/cli/exit-codes.ts);
 * anything else is a bug and is reported as such.
 */
export class MigrateError extends Error {
  constructor(
    readonly path: string,
    message: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Exit 3: a missing path, not a directory, a file that does not parse, a binary file, ... */
export class BadInputError extends MigrateError {
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(path, message, 3, options);
  }
}

/** Exit 4: a dirty git tree, a lock held by another run, a file changed since the run, ... */
export class RefusedError extends MigrateError {
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(path, message, 4, options);
  }
}

/** Exit 5: a write failed; what had been written was restored. */
export class WriteFailedError extends MigrateError {
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(path, message, 5, options);
  }
}
