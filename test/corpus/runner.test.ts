import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluateRepo, type Cli } from "../../scripts/corpus/evaluate.js";
import { unresolvedCreatedImports } from "../../scripts/corpus/imports.js";
import { loadManifest, parseExpectation, parseManifest, type ExpectedSite } from "../../scripts/corpus/manifest.js";
import { matchSites, sameCall, type Report } from "../../scripts/corpus/match.js";
import { summaryLine } from "../../scripts/corpus/table.js";
import { main } from "../../src/cli/index.js";

const FIXTURE = join(import.meta.dirname, "..", "..", "fixtures", "corpus");

function site(at: string, call: string, expect: string, alsoAt: string[] = []): ExpectedSite {
  const [file, line] = at.split(":") as [string, string];
  return { file, line: Number(line), call, expect: parseExpectation(expect, "test"), expectText: expect, alsoAt: alsoAt.map((a) => ({ file: a.split(":")[0]!, line: Number(a.split(":")[1]) })) };
}

function entry(sites: unknown[], extra: Record<string, unknown> = {}): unknown {
  return { repos: [{ name: "x", source: `o/x@${"a".repeat(40)}`, language: "python", shape: "s", sites, ...extra }] };
}

describe("corpus manifest", () => {
  it("reads sites, alternatives, alsoAt and controls", () => {
    const [repo] = parseManifest(entry([{ at: "app/main.py:12", call: "client.chat.completions.create", expect: "gated or left:PY_SYNC_ROUTE|PY_STREAMING", alsoAt: ["app/x.py:3"] }], { subdir: "/server/", controls: ["db/"] }));
    expect(repo).toMatchObject({ repo: "o/x", commit: "a".repeat(40), subdir: "server", controls: ["db/"] });
    expect(repo!.sites[0]).toMatchObject({
      file: "app/main.py",
      line: 12,
      expect: [{ kind: "gated" }, { kind: "left", reasons: ["PY_SYNC_ROUTE", "PY_STREAMING"] }],
      alsoAt: [{ file: "app/x.py", line: 3 }],
    });
  });

  it("names the entry and the field when the manifest is wrong", () => {
    expect(() => parseManifest(entry([{ at: "a.py", call: "c", expect: "gated" }]))).toThrow(/x sites\[0\]: "a.py" is not file:line/);
    expect(() => parseManifest(entry([{ at: "a.py:1", call: "c", expect: "skipped" }]))).toThrow(/unknown expectation "skipped"/);
    expect(() => parseManifest({ repos: [{ name: "x", source: "o/x@HEAD", language: "python", shape: "s", sites: [] }] })).toThrow(/owner\/name@<40-hex commit>/);
    expect(() => parseManifest({})).toThrow(/\{ "repos": \[\.\.\.\] \}/);
  });
});

describe("matching report call sites", () => {
  const report = (callSites: Report["callSites"], findings: Report["findings"] = []): Report => ({ callSites, findings });

  it("compares calls by their last segments", () => {
    expect(sameCall("this.openai.chat.completions.create", "openai.chat.completions.create")).toBe(true);
    expect(sameCall("client.chat.completions.create", "llm.chat.completions.create")).toBe(true);
    expect(sameCall("openai.chat.completions.create", "openai.embeddings.create")).toBe(false);
  });

  it("matches an exact line, a line shifted by inserted lines with the same call, and nothing else", () => {
    const sites = [site("a.ts:10", "openai.chat.completions.create", "gated"), site("a.ts:30", "openai.chat.completions.create", "gated"), site("a.ts:50", "model.invoke", "gated")];
    const results = matchSites(
      sites,
      report([
        { file: "a.ts", line: 10, callee: "openai.chat.completions.create", state: "rewritten" },
        { file: "a.ts", line: 36, callee: "openai.chat.completions.create", state: "rewritten" },
        { file: "a.ts", line: 60, callee: "openai.chat.completions.create", state: "rewritten" },
      ]),
    );
    expect(results.map((r) => [r.outcome.kind, r.ok, r.reportedAt?.line])).toEqual([
      ["gated", true, 10],
      ["gated", true, 36],
      ["missed", false, undefined],
    ]);
  });

  it("uses each report entry once, closest first", () => {
    const sites = [site("a.py:20", "llm", "gated"), site("a.py:21", "llm", "gated")];
    const results = matchSites(sites, report([{ file: "a.py", line: 21, callee: "llm", state: "rewritten" }]));
    expect(results.map((r) => r.outcome.kind)).toEqual(["missed", "gated"]);
  });

  it("accepts a report at an alsoAt place and checks reason codes", () => {
    const results = matchSites(
      [site("c.py:33", "self.client.responses.parse", "left:PY_SYNC_ROUTE", ["r.py:26"]), site("d.py:5", "x.create", "left:PY_STREAMING")],
      report([
        { file: "r.py", line: 26, callee: "ai_client.generate_response", state: "left", reason: "PY_SYNC_ROUTE" },
        { file: "d.py", line: 5, callee: "x.create", state: "left", reason: "PY_SYNC_ROUTE" },
      ]),
    );
    expect(results.map((r) => [r.outcome, r.ok])).toEqual([
      [{ kind: "left", reason: "PY_SYNC_ROUTE" }, true],
      [{ kind: "left", reason: "PY_SYNC_ROUTE" }, false],
    ]);
  });

  it("counts a per-request finding in the same file as left by design", () => {
    const results = matchSites([site("v1/openai.py:20", "client.chat.completions.create", "per-request")], report([], [{ code: "PER_REQUEST_CLIENT", file: "v1/openai.py", line: 19 }]));
    expect(results[0]).toMatchObject({ outcome: { kind: "per-request" }, ok: true });
  });
});

describe("imports of the modules apply created", () => {
  function tree(files: Record<string, string>): string {
    const root = mkdtempSync(join(tmpdir(), "corpus-imports-"));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  }

  it("flags a bare import of a runtime placed inside a folder the file imports as a package", () => {
    const original = tree({ "app/main.py": "from app.routers import api\n" });
    const copy = tree({ "app/main.py": "from app.routers import api\nfrom llm_api import get_async_llm_client\n", "app/llm_api.py": "" });
    const fine = tree({ "main.py": "from llm_api import get_async_llm_client\n", "llm_api.py": "" });
    try {
      expect(unresolvedCreatedImports(original, copy, ["app/main.py"], ["app/llm_api.py"])).toEqual([
        "app/main.py:2 imports llm_api, which is not importable from where app/main.py runs",
      ]);
      expect(unresolvedCreatedImports(original, fine, ["main.py"], ["llm_api.py"])).toEqual([]);
    } finally {
      for (const dir of [original, copy, fine]) rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The real CLI, in process: the corpus checks the tool, so the test runs the tool too. */
const inProcessCli: Cli = async (args) => {
  let stdout = "";
  let stderr = "";
  const io = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env: { NO_COLOR: "1" } };
  const code = await main(["node", "llm-migrate", ...args], io);
  return { code, stdout, stderr };
};

describe("a corpus run on a tiny checkout", () => {
  it("gates the call, leaves the control, rolls back every byte and prints the summary line", async () => {
    const [tiny] = loadManifest(join(FIXTURE, "manifest.json"));
    const result = await evaluateRepo(tiny!, join(FIXTURE, "checkouts", "tiny-express"), inProcessCli);
    expect(result.breakage).toEqual([]);
    expect(result.sites.map((s) => [s.site.line, s.outcome.kind, s.ok])).toEqual([[9, "gated", true]]);
    expect(result.clean).toBe(true);
    expect(summaryLine([result])).toBe("corpus: repos=1 clean=1 sites=1 gated=1 left=0 missed=0 broke=0");
    // scan, apply and rollback of a whole project in process: seconds alone, a minute on a busy shared machine.
  }, 180_000);
});
