import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { reasonTable, transforms } from "../../transforms/index.js";
import type { MigrationOutcome } from "../../transforms/types.js";
import { checkCompiles, expectedTree, FIXTURES, migrateTree, readTree, writeOutputs, type MigrationRun } from "./helpers.js";

const update = process.env.UPDATE_FIXTURES === "1";

export interface FixtureSuite {
  /** Folder under fixtures/. */
  folder: string;
  /** Transforms to run; all of them when undefined. */
  only?: readonly string[];
}

/**
 * fixtures/<transform>/<case>/ run that transform alone; fixtures/servers/<name>/ and
 * fixtures/frameworks/<framework>/<case>/ run them all. The fixture test files split this list
 * between them so that they run in parallel.
 */
export function fixtureSuites(): FixtureSuite[] {
  const frameworks = existsSync(join(FIXTURES, "frameworks")) ? readdirSync(join(FIXTURES, "frameworks")).map((name) => `frameworks/${name}`) : [];
  return [...transforms.map((t) => ({ folder: t.name, only: [t.name] })), ...["servers", ...frameworks].map((folder) => ({ folder }))];
}

interface CaseResult {
  input: Map<string, string>;
  first: MigrationRun;
  second: MigrationRun;
  compileErrors: string[];
}

/**
 * Each case: the whole output compared, a second run changes nothing, and the result compiles.
 * Every case of the suite is migrated first and compiled as one TypeScript program.
 */
export function defineFixtureSuite({ folder, only }: FixtureSuite): void {
  const dir = join(FIXTURES, folder);
  const cases = existsSync(dir) ? readdirSync(dir).filter((name) => existsSync(join(dir, name, "input"))) : [];
  describe(`fixtures/${folder}`, () => {
    const results = new Map<string, CaseResult | Error>();
    beforeAll(async () => {
      const done: [string, Omit<CaseResult, "compileErrors">][] = [];
      for (const name of cases) {
        try {
          const caseDir = join(dir, name);
          const input = readTree(join(caseDir, "input"));
          const first = await migrateTree(input, only);
          if (update) writeOutputs(caseDir, input, first.sources);
          const second = await migrateTree(new Map([...input, ...first.sources]), only);
          done.push([name, { input, first, second }]);
        } catch (error) {
          results.set(name, error as Error);
        }
      }
      const compiled = checkCompiles(
        done.map(([name, { input, first, second }]) => ({ name, tree: new Map([...input, ...first.sources]), runtimeDir: first.runtimeDir ?? second.runtimeDir })),
      );
      for (const [name, result] of done) results.set(name, { ...result, compileErrors: compiled.get(name) ?? [] });
    }, 600_000);

    const labelled = cases.map((name) => {
      const description = readReport(join(dir, name))?.description;
      return [description ? `${name}: ${description}` : name, name] as const;
    });
    it.each(labelled)("%s", (_label, name) => {
      const result = results.get(name);
      if (result instanceof Error || result === undefined) throw result ?? new Error("not run");
      const { input, first, second, compileErrors } = result;
      const expected = expectedTree(join(dir, name));
      for (const [path, text] of first.sources) expect(text, path).toBe(expected.get(path));
      for (const [path, text] of second.sources) expect(text, `second run changed ${path}`).toBe(first.sources.get(path));
      const changed = [...first.sources].some(([path, text]) => input.get(path) !== text);
      if (changed) expect(second.outcome.alreadyMigrated || second.outcome.runtimeDir === undefined).toBe(true);
      // Nothing edited, nothing vendored.
      else if (!first.outcome.alreadyMigrated) expect(first.runtimeDir, "runtime vendored into an unchanged tree").toBeUndefined();
      expect(compileErrors).toEqual([]);
      checkReport(join(dir, name), first.outcome);
    });
  });
}

/**
 * <case>/report.json, when there is one: what the report must say of the first run. Call sites and
 * findings are compared whole; an expected entry without a message takes the reason table's.
 * `outcome` is matched in part (framework, client, runtime flavour …).
 */
interface ExpectedReport {
  description?: string;
  callSites: object[];
  findings: object[];
  outcome?: object;
}

function readReport(caseDir: string): ExpectedReport | undefined {
  const path = join(caseDir, "report.json");
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as ExpectedReport) : undefined;
}

function checkReport(caseDir: string, outcome: MigrationOutcome): void {
  const report = readReport(caseDir);
  if (!report) return;
  const asExpected = <T extends { message?: string }>(actual: readonly T[], expected: readonly object[]) =>
    actual.map((entry, i) => {
      if (expected[i] && "message" in expected[i]) return entry;
      const { message: _message, ...rest } = entry;
      return rest;
    });
  if (update) {
    const strip = <T extends { message?: string }>(entries: readonly T[]) => entries.map(({ message: _message, ...rest }) => rest);
    // A finding keeps its message where it is not the reason table's (METRICS_ROUTE_ADDED names the route).
    const findings = outcome.findings.map((f) => (reasonTable.find((r) => r.code === f.code)?.message === f.message ? strip([f])[0] : f));
    writeFileSync(join(caseDir, "report.json"), JSON.stringify({ ...report, callSites: strip(outcome.callSites), findings }, null, 2) + "\n");
    return;
  }
  expect(asExpected(outcome.callSites, report.callSites), "report.json callSites").toEqual(report.callSites);
  expect(asExpected(outcome.findings, report.findings), "report.json findings").toEqual(report.findings);
  for (const site of outcome.callSites.filter((s) => s.state === "left")) {
    expect(reasonTable.find((r) => r.code === site.reason)?.message, site.reason).toBe(site.message);
  }
  for (const [i, finding] of outcome.findings.entries()) {
    if (!(report.findings[i] && "message" in report.findings[i])) expect(reasonTable.find((r) => r.code === finding.code)?.message, finding.code).toBe(finding.message);
  }
  if (report.outcome) expect(outcome).toMatchObject(report.outcome);
}
