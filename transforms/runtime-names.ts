/** Names the migrated code imports from the vendored runtime, in the order imports list them. */
export const RUNTIME_NAMES = [
  "getAsyncLlmClient",
  "useNewLlmPath",
  "gateLlmCall",
  "runLlmCall",
  "extractOutputText",
  "ollamaBaseUrl",
  "handleLlmErrors",
  "llmMetricsResponse",
  "LlmErrorFilter",
  "sendLlmMetrics",
] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

/** The runtime names written code uses, called or passed on (`.then(extractOutputText)`): what its file must import. */
export function runtimeNamesIn(code: string): RuntimeName[] {
  return RUNTIME_NAMES.filter((name) => new RegExp(`\\b${name}\\b`).test(code));
}

/** The vendored runtime's folder, beside the entry file (or where the framework's adapter says). */
export const RUNTIME_FOLDER = "llm-runtime";
