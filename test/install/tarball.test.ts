// Installing without a registry entry: the `npm pack` tarball, installed into a scratch project as
// the README says, runs `llm-migrate scan` and `apply` from there. The tarball packs dist/, which
// `npm ci` builds (the `prepare` script).
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { FIXTURES, REPO } from "../paths.js";

const npm = (args: string[], cwd: string): string => execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

let scratch: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  if (!existsSync(join(REPO, "dist/src/cli/index.js"))) throw new Error("dist/ is missing: run `npm run build` (npm ci runs it)");
  scratch = mkdtempSync(join(tmpdir(), "llm-migrate-install-"));
  const tarball = npm(["pack", "--ignore-scripts", "--silent", "--pack-destination", scratch], REPO).trim().split("\n").pop()!;
  const project = join(scratch, "tools");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "tools", private: true }) + "\n");
  // The dependencies come from npm's cache, which `npm ci` has just filled.
  npm(["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", join(scratch, tarball)], project);
  env = { ...process.env, PATH: `${join(project, "node_modules", ".bin")}${delimiter}${process.env.PATH ?? ""}` };
  delete env.NO_COLOR;
}, 300_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it("the installed llm-migrate scans, applies and rolls back the example server", () => {
  const server = join(scratch, "server");
  cpSync(join(FIXTURES, "servers/express-ts/input"), server, { recursive: true });
  const llmMigrate = (...args: string[]) => spawnSync("llm-migrate", args, { cwd: scratch, env, encoding: "utf8" });

  const scan = llmMigrate("scan", server);
  expect(scan.stderr).toBe("");
  expect(scan.status).toBe(0);
  expect(scan.stdout).toMatch(/will rewrite\s+src\/server\.ts:\d+\s+llmClient\.generateResponse/);

  const apply = llmMigrate("apply", server);
  expect(apply.stderr).toBe("");
  expect(apply.status).toBe(0);
  expect(readFileSync(join(server, "src/server.ts"), "utf8")).toContain("getAsyncLlmClient");
  expect(existsSync(join(server, "src/llm-runtime/index.ts"))).toBe(true);

  expect(llmMigrate("rollback", server).status).toBe(0);
  expect(readFileSync(join(server, "src/server.ts"), "utf8")).toBe(readFileSync(join(FIXTURES, "servers/express-ts/input/src/server.ts"), "utf8"));
});
