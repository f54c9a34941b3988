/** verify's output: a table on a terminal, plain lines otherwise, JSON for CI. */
import type { Paint } from "../report/colour.js";
import type { Check } from "./checks.js";
import type { VerifyResult } from "./run.js";

const MARK: Record<Check["status"], string> = { pass: "pass", fail: "FAIL", skipped: "skip" };

function heading(result: VerifyResult): string {
  return (
    `llm-migrate verify: ${result.route} on ${result.dir}\n` +
    `${result.requests} concurrent requests, pool ${result.poolSize}, upstream stub latency ${result.latencyMs} ms\n`
  );
}

function verdict(result: VerifyResult, paint: Paint): string {
  const failed = result.checks.filter((c) => c.status === "fail").length;
  const line = result.ok
    ? paint("green", `verify: passed (${result.checks.length} checks)`)
    : paint("red", `verify: FAILED (${failed} of ${result.checks.length} checks failed)`);
  const others = result.otherRoutes.length > 0 ? `other routes that call the model (not loaded; use --route): ${result.otherRoutes.join(", ")}\n` : "";
  return `${others}${line}\n`;
}

function paintStatus(check: Check, paint: Paint, text: string): string {
  return check.status === "pass" ? paint("green", text) : check.status === "fail" ? paint("red", text) : paint("dim", text);
}

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line];
}

export function verifyTable(result: VerifyResult, paint: Paint, columns = 100): string {
  const nameWidth = Math.max(5, ...result.checks.map((c) => c.name.length));
  const statusWidth = 6;
  const detailWidth = Math.max(30, Math.min(Math.max(...result.checks.map((c) => c.message.length)), columns - nameWidth - statusWidth - 10));
  const rule = (left: string, mid: string, right: string) =>
    `${left}${"─".repeat(nameWidth + 2)}${mid}${"─".repeat(statusWidth + 2)}${mid}${"─".repeat(detailWidth + 2)}${right}\n`;
  const row = (name: string, status: string, detail: string, painted = status) =>
    `│ ${name.padEnd(nameWidth)} │ ${painted}${" ".repeat(statusWidth - status.length)} │ ${detail.padEnd(detailWidth)} │\n`;
  let out = heading(result) + rule("┌", "┬", "┐") + row("check", "result", "detail") + rule("├", "┼", "┤");
  for (const check of result.checks) {
    wrap(check.message, detailWidth).forEach((part, i) => {
      out += i === 0 ? row(check.name, MARK[check.status], part, paintStatus(check, paint, MARK[check.status])) : row("", "", part);
    });
  }
  return out + rule("└", "┴", "┘") + verdict(result, paint);
}

export function verifyText(result: VerifyResult, paint: Paint): string {
  const nameWidth = Math.max(...result.checks.map((c) => c.name.length));
  const lines = result.checks.map((check) => `${paintStatus(check, paint, MARK[check.status])}  ${check.name.padEnd(nameWidth)}  ${check.message}\n`);
  return heading(result) + lines.join("") + verdict(result, paint);
}

export function verifyJson(result: VerifyResult): string {
  return JSON.stringify(result, null, 2) + "\n";
}
