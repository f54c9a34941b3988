// The progress line of a long scan: only on a terminal, only after about 2 s, cleared at the end.
import { describe, expect, it } from "vitest";
import { progressOn } from "../../src/cli/progress.js";

function terminal(isTTY: boolean) {
  const written: string[] = [];
  return { written, stream: { isTTY, write: (text: string) => written.push(text) } };
}

describe("progress on stderr", () => {
  it("shows nothing when stderr is not a terminal", () => {
    expect(progressOn(terminal(false).stream)).toBeUndefined();
  });

  it("stays quiet for the first 2 s, then redraws one line and clears it", () => {
    let clock = 0;
    const { written, stream } = terminal(true);
    const progress = progressOn(stream, () => clock)!;
    progress.read(10, 5000);
    progress.done();
    expect(written).toEqual([]);

    clock = 2500;
    progress.read(3120, 5000);
    progress.parsed(80);
    clock = 2700;
    progress.parsed(122);
    progress.sites(40);
    progress.done();
    progress.done();
    expect(written).toEqual([
      "\r\x1b[2Kllm-migrate: 3120/5000 files read, 0 parsed",
      "\r\x1b[2Kllm-migrate: 3120/5000 files read, 122 parsed",
      "\r\x1b[2K",
    ]);
  });
});
