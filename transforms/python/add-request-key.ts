import { TextEdits } from "../../src/languages/python/parse.js";
import { finding, indentUnit, relativePath, type PythonTransform } from "./context.js";

export const addRequestKey: PythonTransform = {
  name: "add-request-key",
  description:
    "When a gated call has no user key in scope (a service module, a helper), adds a middleware that sets each request's key (x-user-id header, else the client address) in a context variable, which use_new_llm_path reads: the canary stays sticky per user, with no signature changes.",
  run(context) {
    const analysis = context.analyse();
    const { app, framework } = analysis;
    if (!app || !framework) return;
    const keyless =
      context.callSites.find((site) => site.state === "rewritten" && site.key === undefined) ??
      analysis.migrated.find((site) => site.key === undefined);
    if (!keyless || analysis.files.some((file) => /\bset_llm_request_key\(/.test(file.getFullText()))) return;
    const at = framework.placeAddition(app, analysis.routes, (path) => path === "/metrics/llm");
    const edits = new TextEdits();
    edits.insert(app.file, at.index, `${at.prefix}${framework.requestKeyMiddleware(app.name, indentUnit(app.file))}${at.suffix}`);
    edits.apply();
    context.needsImports(app.file, { runtime: ["set_llm_request_key"], routeHelpers: true });
    // Without an x-user-id header, the middleware's key is the client address.
    if (context.findings.some((f) => f.code === "CANARY_KEY_CLIENT_ADDRESS")) return;
    context.findings.push(finding("CANARY_KEY_CLIENT_ADDRESS", "warning", { file: relativePath(context.input, app.file), line: app.file.lineAt(at.index + at.prefix.length) }));
  },
};
