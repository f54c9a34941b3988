// The churn figure over the fixtures: `npm run churn`. Changed lines in user source files per
// rewritten call site, beyond the fixed additions (see src/report/churn.ts), from each fixture's
// input/ and expected output/ (the fixture tests prove output/ is what the migration writes).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { churnOf, medianAndMax, SOURCE, type Churn } from "../src/report/churn.js";

const fixturesDir = fileURLToPath(new URL("../fixtures", import.meta.url));
const GATED = /\buseNewLlmPath\(|\bgateLlmCall\(|\buse_new_llm_path\(|\bgate_llm_call\(/g;

export interface FixtureChurn extends Churn {
  fixture: string;
}

/** Every fixture case (a folder with input/ and output/) that rewrites at least one call site. */
export function fixtureChurn(): FixtureChurn[] {
  const results: FixtureChurn[] = [];
  for (const caseDir of caseDirs(fixturesDir)) {
    const files: { before: string; after: string }[] = [];
    let rewritten = 0;
    for (const path of filesUnder(join(caseDir, "output")).filter((p) => SOURCE.test(p))) {
      const inputPath = join(caseDir, "input", path);
      if (!existsSync(inputPath)) continue;
      const before = readFileSync(inputPath, "utf8");
      const after = readFileSync(join(caseDir, "output", path), "utf8");
      files.push({ before, after });
      rewritten += (after.match(GATED)?.length ?? 0) - (before.match(GATED)?.length ?? 0);
    }
    if (rewritten > 0) results.push({ fixture: relative(fixturesDir, caseDir), ...churnOf(files, rewritten) });
  }
  return results;
}

function caseDirs(dir: string): string[] {
  const names = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  if (names.includes("input") && names.includes("output")) return [dir];
  return names.sort().flatMap((name) => caseDirs(join(dir, name)));
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const results = fixtureChurn();
  for (const r of [...results].sort((a, b) => b.perSite - a.perSite)) {
    console.log(`${r.perSite.toFixed(1).padStart(5)}  ${r.fixture} (${r.changedLines} changed, ${r.fixedLines} fixed, ${r.rewrittenSites} sites)`);
  }
  const { median, max } = medianAndMax(results.map((r) => r.perSite));
  console.log(`churn: median ${median.toFixed(1)}, max ${max.toFixed(1)} changed lines per rewritten call site over ${results.length} fixtures`);
}
