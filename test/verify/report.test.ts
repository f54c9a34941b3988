// verify's report on a terminal: a table whose rows line up, long messages wrapped in their cell.
import { describe, expect, it } from "vitest";
import { paintFor } from "../../src/report/colour.js";
import { verifyTable, verifyText } from "../../src/verify/report.js";
import type { VerifyResult } from "../../src/verify/run.js";

const result: VerifyResult = {
  dir: "/srv/support-chat",
  start: "npm run --silent start",
  route: "POST /chat",
  otherRoutes: [],
  requests: 9,
  poolSize: 3,
  latencyMs: 200,
  expectedWallMs: 600,
  ok: false,
  checks: [
    { name: "answered", status: "pass", message: "9/9 answered 2xx" },
    {
      name: "concurrency",
      status: "fail",
      message:
        "peak 1 in flight at the upstream (pool 3): the 9 requests reached the upstream one at a time, so POST /chat " +
        "still calls the model in a blocking or serialised way (does the handler call the legacy client directly?)",
    },
    { name: "legacy flag", status: "skipped", message: "the server did not boot" },
  ],
};

const plain = paintFor({ isTTY: false }, {});

describe("verify report", () => {
  it("draws a table whose rows have one width, wrapping long messages within their cell", () => {
    const table = verifyTable(result, plain, 80);
    const rows = table.split("\n").filter((line) => /^[┌├│└]/.test(line));
    expect(new Set(rows.map((row) => row.length))).toEqual(new Set([rows[0]!.length]));
    expect(rows[0]!.length).toBeLessThanOrEqual(80);
    expect(rows.filter((row) => row.startsWith("│ concurrency │ FAIL"))).toHaveLength(1);
    expect(rows.filter((row) => row.startsWith("│             │        │ ")).length).toBeGreaterThan(1);
    expect(table).toMatch(/verify: FAILED \(1 of 3 checks failed\)\n$/);
  });

  it("prints one plain line per check when not on a terminal", () => {
    expect(verifyText(result, plain).split("\n").slice(2)).toEqual([
      "pass  answered     9/9 answered 2xx",
      `FAIL  concurrency  ${result.checks[1]!.message}`,
      "skip  legacy flag  the server did not boot",
      "verify: FAILED (1 of 3 checks failed)",
      "",
    ]);
  });
});
