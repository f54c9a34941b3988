import { Node, SyntaxKind } from "./ts-morph.js";
import type { CallExpression } from "ts-morph";

const SHELL_FUNCTIONS = new Set(["exec", "execSync"]);
const BLOCKING_FUNCTIONS = new Set(["execSync", "execFileSync", "spawnSync"]);
const LLM_COMMANDS = /^\s*(curl|ollama|llm|llama-cli)\b/;

export interface ChildProcessCall {
  call: CallExpression;
  /** `execSync`, `execFileSync`, `spawnSync`, `exec`. */
  fn: string;
  /** Waits for the process while the event loop stands still. */
  blocking: boolean;
  /** Runs `curl`, `ollama` or a similar client of a model. */
  callsModel: boolean;
  /** A shell string with values interpolated into it (`execSync(\`ollama run llama3 "${prompt}"\`)`). */
  shellInjection: boolean;
}

/** Calls of node:child_process functions inside `scope`, by name (`execSync(…)`, `cp.execSync(…)`). */
export function findChildProcessCalls(scope: Node): ChildProcessCall[] {
  const found: ChildProcessCall[] = [];
  // Names alone would take `regex.exec(…)` for a child process.
  if (!/["']((node:)?child_process|execa)["']/.test(scope.getSourceFile().getFullText())) return found;
  for (const call of scope.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    const fn = call.getExpression().getText().split(".").pop()!;
    if (!SHELL_FUNCTIONS.has(fn) && !BLOCKING_FUNCTIONS.has(fn) && fn !== "execFile" && fn !== "spawn") continue;
    const [command] = call.getArguments();
    if (!command) continue;
    const text = Node.isStringLiteral(command) || Node.isNoSubstitutionTemplateLiteral(command)
      ? command.getLiteralText()
      : Node.isTemplateExpression(command)
        ? command.getHead().getLiteralText()
        : "";
    const interpolated = Node.isTemplateExpression(command) || (Node.isBinaryExpression(command) && command.getOperatorToken().getKind() === SyntaxKind.PlusToken);
    found.push({
      call,
      fn,
      blocking: BLOCKING_FUNCTIONS.has(fn),
      callsModel: LLM_COMMANDS.test(text),
      shellInjection: SHELL_FUNCTIONS.has(fn) && interpolated,
    });
  }
  return found;
}
