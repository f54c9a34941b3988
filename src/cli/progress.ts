import type { PlanProgress } from "../engine/plan.js";

/** A run shorter than this shows no progress at all. */
const QUIET_FOR_MS = 2000;
/** Redraw at most this often. */
const REDRAW_EVERY_MS = 100;

export interface Progress extends Required<PlanProgress> {
  /** Clears the line; called before the report is printed, and again (harmlessly) at the end. */
  done(): void;
}

interface Terminal {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * One line on stderr, redrawn in place, for a scan or apply that runs longer than about 2 s:
 * files read, files parsed, call sites found. Undefined (nothing shown) when stderr is not a
 * terminal. Drawn as the counts change, since parsing keeps the event loop busy.
 */
export function progressOn(stderr: Terminal, now: () => number = Date.now): Progress | undefined {
  if (!stderr.isTTY) return undefined;
  const started = now();
  const counts = { read: 0, total: 0, parsed: 0, sites: undefined as number | undefined };
  let drawnAt = 0;
  let shown = false;
  const draw = () => {
    const time = now();
    if (time - started < QUIET_FOR_MS || time - drawnAt < REDRAW_EVERY_MS) return;
    drawnAt = time;
    shown = true;
    const sites = counts.sites === undefined ? "" : `, ${counts.sites} call site${counts.sites === 1 ? "" : "s"} found`;
    stderr.write(`\r\x1b[2Kllm-migrate: ${counts.read}/${counts.total} files read, ${counts.parsed} parsed${sites}`);
  };
  return {
    read(count, total) {
      counts.read = count;
      counts.total = total;
      draw();
    },
    parsed(count) {
      counts.parsed = count;
      draw();
    },
    sites(count) {
      counts.sites = count;
      draw();
    },
    done() {
      if (shown) stderr.write("\r\x1b[2K");
      shown = false;
    },
  };
}
