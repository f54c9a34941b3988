import { readFileSync } from "node:fs";
import { join } from "node:path";
import { applyTransform } from "jscodeshift/dist/testUtils.js";
import { expect, it } from "vitest";
import * as transform from "../../transforms/jscodeshift.js";
import { FIXTURES } from "./helpers.js";

it("migrates a file through jscodeshift's runner", () => {
  const example = join(FIXTURES, "servers/express-ts");
  const source = readFileSync(join(example, "input/src/server.ts"), "utf8");
  const expected = readFileSync(join(example, "output/src/server.ts"), "utf8");
  const output = applyTransform(transform, { poolSize: "10", canary: "100" }, { path: "src/server.ts", source });
  // applyTransform trims the result.
  expect(output).toBe(expected.trim());
});
