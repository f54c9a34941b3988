/**
 * llm-runtime: one process-wide, semaphore-gated async LLM client. See README.md beside this file.
 */
export {
  getAsyncLlmClient,
  useNewLlmPath,
  gateLlmCall,
  runLlmCall,
  getPathCounts,
  type AsyncLlmClient,
  type ChatMessageLike,
  type GenerateOptions,
  type LlmRequestOptions,
  type RunOptions,
} from "./client.js";
export type { AsyncLlmClientOptions } from "./settings.js";
export {
  LlmError,
  LlmQueueFullError,
  LlmTimeoutError,
  LlmRateLimitedError,
  LlmOverloadedError,
  LlmDrainingError,
  LlmUpstreamError,
  LlmAbortedError,
} from "./errors.js";
export { extractOutputText } from "./extract.js";
export { AimdLimit, FixedLimit, type AimdLimitOptions, type ConcurrencyLimit } from "./limit.js";
export { canaryBucket, isInCanary, reloadLlmSwitches, SWITCH_REFRESH_MS } from "./flags.js";
export { handleLlmErrors, llmHttpError, LlmErrorFilter, type LlmHttpErrorResponse } from "./http.js";
export { llmMetricsResponse, sendLlmMetrics, type LlmMetricsReply, type LlmMetricsRequest } from "./metrics-route.js";
export type { LlmMetricsSnapshot, PathCounts } from "./metrics.js";
export { ollamaBaseUrl } from "./ollama-host.js";
