// package.json keeps its layout: only the lines for new dependencies change.
import { describe, expect, it } from "vitest";
import { editDependencies } from "../../src/engine/package-json.js";

const add = { openai: "^6.49.0", "prom-client": "^15.1.3" };

describe("adding the runtime's dependencies to package.json", () => {
  // Seen: a whole package.json re-laid-out (arrays opened up, spacing changed) for one line.
  it("inserts lines in sorted place and leaves every other byte as it was", () => {
    const lines = [
      "{",
      '  "name" : "chat-api",',
      '  "keywords": ["llm", "chat"],',
      '  "files": [ "dist" ],',
      '  "dependencies" : {',
      '    "express" : "^4.19.2",',
      '    "zod" : "^3.23.0"',
      "  },",
      '  "scripts": {"start": "node dist/server.js"}',
      "}",
      "",
    ];
    const expected = [...lines];
    expected.splice(6, 0, '    "openai" : "^6.49.0",', '    "prom-client" : "^15.1.3",');
    expect(editDependencies(lines.join("\n"), { add })).toBe(expected.join("\n"));
  });

  it("appends to an unsorted list, with tabs and CRLF kept", () => {
    const text = '{\r\n\t"dependencies": {\r\n\t\t"zod": "^3.23.0",\r\n\t\t"express": "^4.19.2"\r\n\t}\r\n}';
    expect(editDependencies(text, { add })).toBe(
      '{\r\n\t"dependencies": {\r\n\t\t"zod": "^3.23.0",\r\n\t\t"express": "^4.19.2",\r\n\t\t"openai": "^6.49.0",\r\n\t\t"prom-client": "^15.1.3"\r\n\t}\r\n}',
    );
  });

  it("opens an empty object, and adds the section after the last key when there is none", () => {
    expect(editDependencies('{\n    "name": "a",\n    "dependencies": {}\n}\n', { add: { openai: "^6.49.0" } })).toBe(
      '{\n    "name": "a",\n    "dependencies": {\n        "openai": "^6.49.0"\n    }\n}\n',
    );
    expect(editDependencies('{\n  "name": "a",\n  "private": true\n}\n', { add })).toBe(
      '{\n  "name": "a",\n  "private": true,\n  "dependencies": {\n    "openai": "^6.49.0",\n    "prom-client": "^15.1.3"\n  }\n}\n',
    );
  });

  it("raises a range in place, and changes nothing when all is there", () => {
    const text = '{\n  "dependencies": { "openai": "^4.70.0", "prom-client": "^15.1.3" }\n}\n';
    expect(editDependencies(text, { add, raise: { openai: "^6.49.0" } })).toBe('{\n  "dependencies": { "openai": "^6.49.0", "prom-client": "^15.1.3" }\n}\n');
    expect(editDependencies(text, { add })).toBeUndefined();
  });

  it("throws on text that is not JSON", () => {
    expect(() => editDependencies('{ "dependencies": { "a": }', { add })).toThrow();
  });
});
