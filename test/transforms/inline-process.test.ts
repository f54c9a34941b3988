// A model process run right in a handler (`execFileSync("ollama", ["run", model, prompt])`) is gated
// as a wrapper around it is (fixture gate-call-sites/execfilesync-ollama-inline); what cannot be
// read the same at the call site stays left with its reason, the code untouched.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nodeDependencyPlan } from "../../src/engine/node-dependencies.js";
import { FIXTURES, migrateTree, readTree } from "./helpers.js";

const input = readTree(join(FIXTURES, "gate-call-sites/execfilesync-ollama-inline/input"));
const inline = 'execFileSync("ollama", ["run", "llama3", req.body.prompt], { encoding: "utf8" })';

describe("a model process run inline", () => {
  it.each([
    ["a model from the request", 'execFileSync("ollama", ["run", req.body.model, req.body.prompt], { encoding: "utf8" })'],
    ["no text encoding (a Buffer)", 'execFileSync("ollama", ["run", "llama3", req.body.prompt])'],
    ["an option the new path would drop", 'execFileSync("ollama", ["run", "llama3", req.body.prompt], { encoding: "utf8", timeout: 5000 })'],
    ["arguments spread in", 'execFileSync("ollama", ["run", "llama3", ...req.body.args], { encoding: "utf8" })'],
    ["curl, whose output is JSON", 'execFileSync("curl", ["-s", "http://127.0.0.1:11434/api/generate"], { encoding: "utf8" })'],
  ])("is left when its target is unreadable: %s", async (_, call) => {
    const server = input.get("server.js")!.replace(inline, call);
    const { outcome, sources } = await migrateTree(new Map([...input, ["server.js", server]]), ["gate-call-sites"]);
    expect(outcome.callSites).toMatchObject([{ file: "server.js", state: "left", reason: "BLOCKING_CHILD_PROCESS_CALL" }]);
    // Only the reason's comment is added above it.
    const written = sources.get("server.js") ?? server;
    expect(written).toContain(`  ${call};`.replace("  ", "  const reply = "));
    expect(written).not.toContain("useNewLlmPath");
  });

  it("needs openai in package.json: the new path calls ollama through the runtime's SDK", async () => {
    const { outcome } = await migrateTree(input, ["gate-call-sites"]);
    expect(outcome.callSites).toMatchObject([{ callee: "execFileSync", state: "rewritten" }]);
    expect(Object.keys(nodeDependencyPlan(input.get("package.json")!, outcome, {}).edits.add ?? {})).toContain("openai");
  });
});
