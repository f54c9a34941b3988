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

/** The vendored runtime's folder, beside the entry file (or where the framework's adapter says). */
export const RUNTIME_FOLDER = "llm-runtime";
