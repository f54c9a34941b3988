import type { Node, SourceFile } from "ts-morph";
import { findSerialisation } from "../src/languages/typescript/find-serialisation.js";
import { detectStyle, indentationAt, type SourceStyle } from "../src/languages/typescript/source-style.js";
import { caughtLocally, planCallSite, routeHandlersByFunction } from "./call-sites/decide.js";
import { alreadyCommented, commentPosition, gatedCall, makeAsync } from "./call-sites/render.js";
import { reportClientTraits, reportFor } from "./call-sites/report.js";
import type { Transform } from "./context.js";
import { leftComment, reasons } from "./reasons.js";
import { runtimeNamesIn } from "./runtime-names.js";

export const gateCallSites: Transform = {
  name: "gate-call-sites",
  description:
    "Puts every call on the shared client behind useNewLlmPath(): the new path goes through the semaphore-gated async client, the legacy path is the original call.",
  run(context) {
    const analysis = context.analyse();
    const { calls } = analysis;
    const { plan } = context;
    const handlers = routeHandlersByFunction(analysis);
    const commented = new Set<string>();
    const wrapped = new Set<Node>();
    const madeAsync = new Set<Node>();
    const styles = new Map<SourceFile, SourceStyle>();
    const styleOf = (file: SourceFile) => styles.get(file) ?? styles.set(file, detectStyle(file)).get(file)!;

    let byAddress: { file: string; line: number } | undefined;
    reportClientTraits(context, analysis);
    const serialisations = analysis.files.flatMap((f) => findSerialisation(f));
    for (const llmCall of calls) {
      const decision = planCallSite(llmCall, analysis, handlers, serialisations);
      if (decision.state === "ignored") continue;
      const file = llmCall.call.getSourceFile();
      const report = reportFor(context, llmCall);
      if (decision.state === "already-migrated") {
        context.callSites.push({ ...report, state: "already-migrated", key: decision.key });
      } else if (decision.state === "left") {
        context.callSites.push({ ...report, state: "left", reason: decision.reason, message: reasons[decision.reason].message });
        // Left by design (a per-request credential): nothing to say in the code.
        if ("byDesign" in reasons[decision.reason]) continue;
        const at = commentPosition(llmCall.call);
        const id = `${file.getFilePath()}:${at}`;
        if (!commented.has(id) && !alreadyCommented(file, at, decision.reason)) {
          commented.add(id);
          plan.insert(file, at, `${indentationAt(file, at)}${leftComment(decision.reason)}\n`);
        }
      } else {
        context.callSites.push({ ...report, state: "rewritten", key: decision.key });
        byAddress ??= decision.keyIsClientAddress ? report : undefined;
        if (caughtLocally(llmCall.call)) {
          const { message } = reasons.CAUGHT_LOCALLY;
          context.findings.push({ code: "CAUGHT_LOCALLY", kind: "warning", message, file: report.file, line: report.line });
        }
        if (llmCall.api === "process") {
          // Said of a wrapper's child process too: the new path is HTTP to the same model.
          const { message } = reasons.BLOCKING_CHILD_PROCESS;
          context.findings.push({ code: "BLOCKING_CHILD_PROCESS", kind: "info", message, file: report.file, line: report.line });
        }
        if (decision.serialisedBy) {
          const { message } = reasons.SERIALISED_CALL;
          context.findings.push({ code: "SERIALISED_CALL", kind: "info", message, file: report.file, line: report.line });
        }
        for (const handler of decision.wrap) {
          const wrapper = analysis.framework?.errorWrapper;
          if (!wrapper || wrapped.has(handler.argument)) continue;
          wrapped.add(handler.argument);
          const { argument } = handler;
          // Added before any `async ` at the same spot, so it lands first: `handleLlmErrors(async …`.
          plan.insert(argument.getSourceFile(), argument.getStart(), `${wrapper}(`);
          plan.insert(argument.getSourceFile(), argument.getEnd(), ")");
          context.needsRuntime(argument.getSourceFile(), wrapper);
        }
        if (decision.makeAsync && !madeAsync.has(decision.makeAsync)) {
          madeAsync.add(decision.makeAsync);
          makeAsync(plan, decision.makeAsync);
        }
        const replaced = decision.serialisedBy ?? llmCall.call;
        const gated = gatedCall(llmCall, decision, styleOf(file));
        plan.replace(file, replaced.getStart(), replaced.getEnd(), gated);
        context.needsRuntime(file, ...runtimeNamesIn(gated));
      }
    }
    // Once per run, as the Python side does: where the only key is the client address.
    if (byAddress) {
      const { message } = reasons.CANARY_KEY_CLIENT_ADDRESS;
      context.findings.push({ code: "CANARY_KEY_CLIENT_ADDRESS", kind: "warning", message, file: byAddress.file, line: byAddress.line });
    }
  },
};

