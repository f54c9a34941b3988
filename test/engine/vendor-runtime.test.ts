// The runtime as `apply` vendors it into JavaScript servers: the build's transpiled copy
// (dist/runtime-js, made by `npm run build`) is what transpiling the runtime's sources gives.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runtimeFiles, transpile } from "../../src/engine/vendor-runtime.js";
import { repoRoot } from "./helpers.js";

describe.each(["esm", "cjs"] as const)("the runtime vendored as %s JavaScript", (flavour) => {
  it("comes from the build, made from the runtime's current sources, and equals transpiling them", async () => {
    const dir = join(repoRoot, "dist", "runtime-js", flavour);
    const sources = JSON.parse(readFileSync(join(dir, "sources.json"), "utf8")) as Record<string, string>;
    const files = await runtimeFiles(flavour);
    expect(files.map((file) => file.name)).toEqual(["README.md", ...Object.keys(sources).sort()]);
    for (const { name, contents } of files.slice(1)) {
      const source = readFileSync(join(repoRoot, "runtime", name.replace(/\.js$/, ".ts")));
      expect(sources[name], `${name}: dist/runtime-js is older than runtime/ (npm run build)`).toBe(createHash("sha256").update(source).digest("hex"));
      expect(contents.equals(readFileSync(join(dir, name))), name).toBe(true);
      expect(contents.toString("utf8"), name).toBe(transpile(name.replace(/\.js$/, ".ts"), source, flavour).toString("utf8"));
    }
  });
});
