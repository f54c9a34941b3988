import { createTwoFilesPatch } from "diff";
import type { PlannedChange } from "../engine/index.js";
import { textOf } from "../engine/text.js";
import type { Paint } from "./colour.js";

/** A unified diff of the planned changes, `a/<path>` to `b/<path>`; created files come from /dev/null. */
export function unifiedDiff(changes: readonly PlannedChange[], paint: Paint = (_style, text) => text): string {
  const patches = changes.map((change) =>
    createTwoFilesPatch(
      change.before ? `a/${change.path}` : "/dev/null",
      `b/${change.path}`,
      change.before ? textOf(change.before) : "",
      textOf(change.after),
      undefined,
      undefined,
      { context: 3 },
    ),
  );
  return patches
    .join("")
    .split("\n")
    .map((line) => {
      if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("===")) return paint("bold", line);
      if (line.startsWith("+")) return paint("green", line);
      if (line.startsWith("-")) return paint("red", line);
      if (line.startsWith("@@")) return paint("cyan", line);
      return line;
    })
    .join("\n");
}
