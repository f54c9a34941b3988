import { lstat, readFile, realpath, stat } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { Finding, MigrationInput, MigrationOutcome, MigrationSettings } from "../../transforms/types.js";
import { toRelative } from "./discover.js";
import { SETTINGS_FILES, appendLlmSettings } from "./env-example.js";
import { dockerfilesMissing } from "./dockerfile.js";
import { BadInputError } from "./errors.js";
import { engineFinding } from "./findings.js";
import { formatLikeTheProject } from "./format.js";
import { dependencyFileFor, migrationFor, nearestFile, runtimeDocumentation } from "./languages.js";
import { loadTarget, type LoadedFile, type LoadProgress } from "./load.js";
import type { Prefetch } from "./prefetch.js";
import { nodeDependencyPlan, type NodeDependencyPlan } from "./node-dependencies.js";
import { toolPackage } from "./package-root.js";
import { decodeText, encodeText } from "./text.js";
import { runtimeFiles } from "./vendor-runtime.js";

export type MigrateFunction = (input: MigrationInput) => MigrationOutcome | Promise<MigrationOutcome>;

export interface PlannedChange {
  /** Relative to the root, forward slashes. */
  path: string;
  absPath: string;
  action: "modified" | "created";
  /** The bytes read, for a modified file. */
  before?: Buffer;
  after: Buffer;
  /** Mode kept for a modified file, given to a created one. */
  mode: number;
}

export type PlanStatus = "pending" | "already-migrated" | "nothing-to-do";

export interface MigrationPlan {
  rootDir: string;
  settings: MigrationSettings;
  outcome: MigrationOutcome;
  /** The engine's findings (skipped files, ...) followed by the transforms'. */
  findings: Finding[];
  changes: PlannedChange[];
  status: PlanStatus;
}

export interface PlanOptions {
  /** The migration to run; the real TypeScript transforms by default. */
  migrate?: MigrateFunction;
  /** Format changed files with the target's Prettier config (default true). */
  format?: boolean;
  /** Told the counts as the run goes, for a progress line. */
  progress?: PlanProgress;
  /** The tree's listing and reads, started before the parsers were loaded. */
  prefetch?: Prefetch;
}

export interface PlanProgress extends LoadProgress {
  sites?(count: number): void;
}

/** Dependencies the vendored runtime imports, in the ranges llm-migrate itself is built and tested with. */

const CREATED_FILE_MODE = 0o644;

/** Analyses the target and works out every byte the migration would write, without writing. */
export async function planMigration(dir: string, settings: MigrationSettings, options: PlanOptions = {}): Promise<MigrationPlan> {
  const rootDir = await checkRootDir(dir);
  const loaded = await loadTarget(rootDir, settings, options.progress, options.prefetch);
  const migrate = options.migrate ?? migrationFor(loaded.pythonFiles);
  const broken = [...loaded.files.values()].filter((file) => file.syntaxError !== undefined);
  let outcome: MigrationOutcome;
  try {
    outcome = await migrate({ project: loaded.project, pythonFiles: loaded.pythonFiles, rootDir, settings: loaded.settings });
  } catch (error) {
    if (broken[0]) throw syntaxError(broken[0], error);
    throw error;
  }
  options.progress?.sites?.(outcome.callSites.length);
  const mustChange = filesTheMigrationNeeds(outcome);
  for (const file of broken) {
    if (mustChange.has(file.path) || file.sourceFile.getFullText() !== file.text) throw syntaxError(file);
  }
  const findings = [...loaded.findings, ...broken.map((file) => engineFinding("syntax-error", file.path, file.syntaxError))];
  const changes: PlannedChange[] = [];
  for (const file of loaded.files.values()) {
    if (file.syntaxError !== undefined) continue;
    const change = await sourceChange(rootDir, file, options.format ?? true, findings);
    if (change) changes.push(change);
  }
  for (const sourceFile of loaded.project.getSourceFiles()) {
    const absPath = resolve(sourceFile.getFilePath());
    const path = toRelative(rootDir, absPath);
    if (loaded.files.has(path) || path.startsWith("../") || path.split("/").includes("node_modules")) continue;
    changes.push(await createOrUpdate(rootDir, path, Buffer.from(sourceFile.getFullText(), "utf8")));
  }
  if (outcome.runtimeDir !== undefined) {
    changes.push(...(await runtimeSupportChanges(rootDir, loaded.settings, outcome, findings)));
  }
  findings.push(...outcome.findings);
  const pending = changes.filter((change) => change.action === "created" || !change.before?.equals(change.after));
  pending.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const status: PlanStatus = pending.length > 0 ? "pending" : outcome.alreadyMigrated ? "already-migrated" : "nothing-to-do";
  return { rootDir, settings: loaded.settings, outcome, findings, changes: pending, status };
}

async function checkRootDir(dir: string): Promise<string> {
  const rootDir = resolve(dir);
  const info = await stat(rootDir).catch(() => undefined);
  if (!info) throw new BadInputError(".", "no such file or directory");
  if (!info.isDirectory()) throw new BadInputError(".", "not a directory");
  return rootDir;
}

function filesTheMigrationNeeds(outcome: MigrationOutcome): Set<string> {
  const paths = new Set<string>(outcome.callSites.map((site) => site.file));
  if (outcome.client) paths.add(outcome.client.file);
  if (outcome.entryFile) paths.add(outcome.entryFile);
  return paths;
}

function syntaxError(file: LoadedFile, cause?: unknown): BadInputError {
  return new BadInputError(file.path, `syntax error at ${file.syntaxError}`, { cause });
}

async function sourceChange(rootDir: string, file: LoadedFile, format: boolean, findings: Finding[]): Promise<PlannedChange | undefined> {
  if (file.sourceFile.wasForgotten()) return undefined;
  let text = file.sourceFile.getFullText();
  if (text === file.text) return undefined;
  if (format) {
    const formatted = await formatLikeTheProject(rootDir, file.absPath, file.text, text);
    if ("failure" in formatted) findings.push(engineFinding("not-formatted", file.path, formatted.failure));
    text = formatted.text;
  }
  return { path: file.path, absPath: file.absPath, action: "modified", before: file.bytes, after: encodeText(text, file.style), mode: file.mode };
}

/** The vendored runtime, the dependencies it needs in package.json and its settings in .env.example. */
async function runtimeSupportChanges(
  rootDir: string,
  settings: MigrationSettings,
  outcome: MigrationOutcome,
  findings: Finding[],
): Promise<PlannedChange[]> {
  const runtimeDir = resolve(outcome.runtimeDir!);
  if (!(runtimeDir + sep).startsWith(rootDir + sep)) throw new Error(`the migration asked to vendor the runtime outside the folder: ${runtimeDir}`);
  const changes: PlannedChange[] = [];
  const missing: string[] = [];
  for (const file of await runtimeFiles(outcome.runtimeFlavour ?? "ts")) {
    const change = await createOrUpdate(rootDir, toRelative(rootDir, join(runtimeDir, file.name)), file.contents);
    // An earlier migration's runtime: files deleted since are put back, the others left as they are.
    if (outcome.alreadyMigrated && change.action === "modified") continue;
    if (outcome.alreadyMigrated) missing.push(file.name);
    changes.push(change);
  }
  if (missing.length > 0) findings.push(engineFinding("runtime-repaired", toRelative(rootDir, runtimeDir), missing.join(", ")));
  let sdk: NodeDependencyPlan | undefined;
  const dependencies = dependencyFileFor(outcome.runtimeFlavour, (text) => (sdk = nodeDependencyPlan(text, outcome, toolPackage().dependencies)).edits);
  const dependencyFile = dependencies && (await nearestFile(rootDir, runtimeDir, dependencies.name));
  if (dependencies && dependencyFile) {
    const change = await editTextFile(rootDir, dependencyFile, (text) => dependencies.add(text, dependencyFile));
    if (change) changes.push(change);
    if (change && dependencies.added) findings.push(engineFinding(dependencies.added, dependencyFile));
    findings.push(...sdkFindings(sdk, dependencyFile));
  } else if (dependencies) {
    // The package.json that governs the runtime may sit above the folder given (a monorepo's root).
    const above = await governingPackageJsonAbove(rootDir);
    findings.push(above ? engineFinding("package-json-outside-folder", above) : engineFinding(dependencies.missing));
  }
  for (const docker of await dockerfilesMissing(rootDir, toRelative(rootDir, runtimeDir))) {
    findings.push(engineFinding("dockerfile-copies-some-files", docker.file, toRelative(rootDir, runtimeDir), docker.line));
  }
  const readme = toRelative(rootDir, runtimeDocumentation(outcome, runtimeDir));
  let settingsFile: string = SETTINGS_FILES[0];
  for (const name of SETTINGS_FILES) {
    if (await lstat(join(rootDir, name)).catch(() => undefined)) {
      settingsFile = name;
      break;
    }
  }
  const envChange = await editTextFile(rootDir, settingsFile, (text) => appendLlmSettings(text, settings, readme));
  if (envChange) changes.push(envChange);
  return changes;
}

function sdkFindings(sdk: NodeDependencyPlan | undefined, file: string): Finding[] {
  if (sdk?.raised) return [engineFinding("openai-range-raised", file, `${sdk.raised.from} -> ${sdk.raised.to}`)];
  if (sdk?.tooOld) return [engineFinding("openai-too-old", file, sdk.tooOld)];
  return [];
}

/** The nearest package.json above the folder given, shown relative to it (`../../package.json`). */
async function governingPackageJsonAbove(rootDir: string): Promise<string | undefined> {
  for (let dir = dirname(rootDir); ; dir = dirname(dir)) {
    if (await lstat(join(dir, "package.json")).catch(() => undefined)) return relative(rootDir, join(dir, "package.json")).split(sep).join("/");
    if (dirname(dir) === dir) return undefined;
  }
}

/** A regular file the run may overwrite: never a symlink (the write would replace the link). */
async function readWritableTarget(rootDir: string, path: string): Promise<{ bytes: Buffer; mode: number } | undefined> {
  const absPath = join(rootDir, path);
  await checkInsideTree(rootDir, path);
  const info = await lstat(absPath).catch(() => undefined);
  if (!info) {
    await checkCanCreate(rootDir, path);
    return undefined;
  }
  if (info.isSymbolicLink()) throw new BadInputError(path, "is a symlink; llm-migrate does not write through symlinks");
  if (!info.isFile()) throw new BadInputError(path, "is in the way: not a regular file");
  return { bytes: await readFile(absPath), mode: info.mode & 0o7777 };
}

/** The folder a file goes in must not lead out of the tree through a symlinked folder. */
async function checkInsideTree(rootDir: string, path: string): Promise<void> {
  let dir = dirname(join(rootDir, path));
  while (!(await lstat(dir).catch(() => undefined))) dir = dirname(dir);
  const [realRoot, realDir] = await Promise.all([realpath(rootDir), realpath(dir)]);
  if (!(realDir + sep).startsWith(realRoot + sep)) throw new BadInputError(path, "leads out of the folder through a symlink; nothing was written");
}

async function checkCanCreate(rootDir: string, path: string): Promise<void> {
  for (let dir = dirname(join(rootDir, path)); ; dir = dirname(dir)) {
    const info = await lstat(dir).catch(() => undefined);
    if (info?.isDirectory()) return;
    if (info) throw new BadInputError(toRelative(rootDir, dir), "is in the way: not a directory");
  }
}

async function createOrUpdate(rootDir: string, path: string, contents: Buffer): Promise<PlannedChange> {
  const existing = await readWritableTarget(rootDir, path);
  const absPath = join(rootDir, path);
  if (!existing) return { path, absPath, action: "created", after: contents, mode: CREATED_FILE_MODE };
  return { path, absPath, action: "modified", before: existing.bytes, after: contents, mode: existing.mode };
}

/** Edits a text file in its own style (BOM, line breaks); creates it from "" when missing. */
async function editTextFile(rootDir: string, path: string, edit: (text: string) => string | undefined): Promise<PlannedChange | undefined> {
  const existing = await readWritableTarget(rootDir, path);
  const { text, style } = existing ? decodeText(existing.bytes) : { text: "", style: { bom: false, eol: "\n" as const, encoding: "utf8" as const } };
  const next = edit(text);
  if (next === undefined) return undefined;
  const after = encodeText(next, style);
  const absPath = join(rootDir, path);
  if (!existing) return { path, absPath, action: "created", after, mode: CREATED_FILE_MODE };
  return { path, absPath, action: "modified", before: existing.bytes, after, mode: existing.mode };
}
