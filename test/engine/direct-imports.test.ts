import { describe, expect, it } from "vitest";
import { filesToParse } from "../../src/engine/candidates.js";
import type { ReadSource } from "../../src/engine/read.js";
import { llmCallTest } from "../../src/engine/relevance.js";

const source = (path: string, text: string, mentions: boolean, imports: string[] = []): ReadSource => ({
  path,
  mode: 0o644,
  bytes: Buffer.from(text),
  mentions,
  imports,
});

describe("modules a matched file imports", () => {
  const mayCall = llmCallTest([]);

  it("are parsed when their text calls a method of the SDK table or names an LLM API", () => {
    expect(mayCall("return this.client.messages.create({ model })")).toBe(true);
    expect(mayCall("await client.chat\n  .completions\n  ?.create(body)")).toBe(true);
    expect(mayCall("const model = genAI.getGenerativeModel({ model: 'x' });")).toBe(true);
    expect(mayCall('const URL = "https://api.anthropic.com/v1/messages";')).toBe(true);
    expect(mayCall("const chat = model.startChat({ history });")).toBe(true);
    expect(mayCall("export const add = (a, b) => a + b;")).toBe(false);
  });

  it("are left unparsed when they could hold no LLM call", () => {
    const chosen = filesToParse(
      [
        source("server.js", 'import express from "express";', true, ["./assistant.js", "./math.js"]),
        source("assistant.js", "export class Assistant { answer(q) { return this.client.messages.create({ q }); } }", false),
        source("math.js", "export const add = (a, b) => a + b;", false),
      ],
      mayCall,
    );
    expect([...chosen].sort()).toEqual(["assistant.js", "server.js"]);
  });
});
