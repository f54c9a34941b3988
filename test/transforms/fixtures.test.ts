import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { transforms } from "../../transforms/index.js";
import { checkCompiles, expectedTree, FIXTURES, migrateTree, readTree, writeOutputs } from "./helpers.js";

const update = process.env.UPDATE_FIXTURES === "1";

/**
 * fixtures/<transform>/<case>/ run that transform alone; fixtures/servers/<name>/ and
 * fixtures/frameworks/<framework>/<case>/ run them all.
 */
const frameworkFolders = existsSync(join(FIXTURES, "frameworks")) ? readdirSync(join(FIXTURES, "frameworks")).map((name) => `frameworks/${name}`) : [];
const suites = [
  ...transforms.map((t) => ({ folder: t.name, only: [t.name] as readonly string[] | undefined })),
  ...["servers", ...frameworkFolders].map((folder) => ({ folder, only: undefined })),
];

for (const { folder, only } of suites) {
  const dir = join(FIXTURES, folder);
  const cases = existsSync(dir) ? readdirSync(dir).filter((name) => existsSync(join(dir, name, "input"))) : [];
  describe(`fixtures/${folder}`, () => {
    it.each(cases)("%s", (name) => {
      const caseDir = join(dir, name);
      const input = readTree(join(caseDir, "input"));
      const first = migrateTree(input, only);
      if (update) writeOutputs(caseDir, input, first.sources);

      const expected = expectedTree(caseDir);
      for (const [path, text] of first.sources) expect(text, path).toBe(expected.get(path));

      const second = migrateTree(new Map([...input, ...first.sources]), only);
      for (const [path, text] of second.sources) expect(text, `second run changed ${path}`).toBe(first.sources.get(path));
      const changed = [...first.sources].some(([path, text]) => input.get(path) !== text);
      if (changed) expect(second.outcome.alreadyMigrated || second.outcome.runtimeDir === undefined).toBe(true);

      expect(checkCompiles(new Map([...input, ...first.sources]), first.outcome.runtimeDir ?? second.outcome.runtimeDir)).toEqual([]);
    });
  });
}
