import type { Node } from "ts-morph";
import { findChildProcessCalls } from "../../src/languages/typescript/find-child-process.js";
import { findSerialisation } from "../../src/languages/typescript/find-serialisation.js";
import type { LlmCall } from "../../src/languages/typescript/find-llm-calls.js";
import { relativePath, type Analysis, type MigrationContext } from "../context.js";
import { reasons, type ReasonCode } from "../reasons.js";
import type { CallSiteReport, FindingKind } from "../types.js";

export function reportFor(context: MigrationContext, { call, callee }: LlmCall): Omit<CallSiteReport, "state"> {
  const file = call.getSourceFile();
  const { line, column } = file.getLineAndColumnAtPos(call.getStart());
  return { file: relativePath(context.input, file), line, column, callee };
}

/**
 * Findings about the client itself. A blocking child process (`execSync("curl …")`, `ollama run`)
 * inside a wrapper is not rewritten in place: the call sites' new path already runs
 * generateResponseAsync, an async call through the gate, and the legacy path keeps the wrapper
 * as it was. That is the smallest diff a reviewer can check, and it needs no async twin of the
 * wrapper to be written and kept in step with it.
 */
export function reportClientTraits(context: MigrationContext, analysis: Analysis): void {
  const push = (code: ReasonCode, kind: FindingKind, node: Node) =>
    context.findings.push({ code, kind, message: reasons[code].message, file: relativePath(context.input, node.getSourceFile()), line: node.getStartLineNumber() });
  const wrapper = analysis.detection.clients.find((c) => c.kind === "wrapper")?.wrapperClass;
  if (wrapper) {
    for (const found of findSerialisation(wrapper)) push(found.rateLimit ? "RATE_LIMIT_BYPASSED" : "SERIALISED_WRAPPER", found.rateLimit ? "warning" : "info", found.node);
    for (const found of findChildProcessCalls(wrapper)) if (found.blocking && found.callsModel) push("BLOCKING_CHILD_PROCESS", "info", found.call);
  }
  if (analysis.calls.some((c) => c.api === "sdk")) {
    for (const file of analysis.files) for (const found of findSerialisation(file)) if (found.rateLimit) push("RATE_LIMIT_QUEUE", "warning", found.node);
  }
}

