// Where things are, for any test. Kept apart from test/transforms/helpers.ts, which loads the
// engine (TypeScript, ts-morph, the Python parser): a test that needs only a path should not pay
// for loading those in its own worker.
import { join } from "node:path";

export const REPO = join(import.meta.dirname, "..");
export const FIXTURES = join(REPO, "fixtures");
export const PYTHON_FIXTURES = join(FIXTURES, "python");
/** Where a tree is said to live when a test builds one by hand (Python report tests). */
export const ROOT = "/target";
/** Debian's interpreter (python3-fastapi and friends); a pyenv python3 on PATH may not see them. */
export const PYTHON = "/usr/bin/python3";
