/**
 * The assistant text of any response shape a migrated server may hold: Responses API
 * (`output_text` or its output items), chat completions (v4+), v3 axios responses
 * (`data.choices[0].message.content`) and legacy completions (`choices[0].text`).
 */

function get(value: unknown, name: string): unknown {
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>)[name] : undefined;
}

/** Content that is a string, or an array of text parts (`{ type: "text" | "output_text", text }`). */
function textOf(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return undefined;
  const parts = content
    .filter((part) => get(part, "type") === "text" || get(part, "type") === "output_text")
    .map((part) => get(part, "text"))
    .filter((text): text is string => typeof text === "string");
  return parts.length > 0 ? parts.join("") : undefined;
}

function fromResponses(response: unknown): string | undefined {
  const outputText = get(response, "output_text");
  if (typeof outputText === "string" && outputText !== "") return outputText;
  const output = get(response, "output");
  if (!Array.isArray(output)) return typeof outputText === "string" ? outputText : undefined;
  const texts = output
    .filter((item) => get(item, "type") === "message")
    .map((item) => textOf(get(item, "content")))
    .filter((text): text is string => text !== undefined);
  return texts.join("");
}

function fromChoices(response: unknown): string | undefined {
  const choices = get(response, "choices");
  if (!Array.isArray(choices) || choices.length === 0) return undefined;
  const first = choices[0];
  return textOf(get(get(first, "message"), "content")) ?? textOf(get(first, "text")) ?? textOf(get(get(first, "delta"), "content"));
}

export function extractOutputText(response: unknown): string {
  if (typeof response === "string") return response;
  return fromResponses(response) ?? fromChoices(response) ?? fromChoices(get(response, "data")) ?? "";
}

/**
 * Tokens a response says it used (`usage`): Responses (`input_tokens`/`output_tokens`), chat
 * completions (`prompt_tokens`/`completion_tokens`), also under v3's `data`. Undefined without usage.
 */
export function tokenUsage(response: unknown): { input: number; output: number } | undefined {
  const usage = get(response, "usage") ?? get(get(response, "data"), "usage");
  if (usage === null || typeof usage !== "object") return undefined;
  const input = get(usage, "input_tokens") ?? get(usage, "prompt_tokens");
  const output = get(usage, "output_tokens") ?? get(usage, "completion_tokens");
  if (typeof input !== "number" && typeof output !== "number") return undefined;
  return { input: typeof input === "number" ? input : 0, output: typeof output === "number" ? output : 0 };
}
