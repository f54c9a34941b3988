// API skeleton: the signatures the transforms generate code against. The runtime issue fills the bodies.
export interface LlmRequestOptions {
  signal: AbortSignal;
  maxRetries: 0;
  timeout: number;
}

export interface AsyncLlmClientOptions {
  poolSize?: number;
  canaryPercent?: number;
  maxQueue?: number;
  timeoutMs?: number;
  maxRetries?: number;
  model?: string;
  api?: "responses" | "chat";
  openai?: unknown;
}

export interface ChatMessageLike {
  role: string;
  content: unknown;
}

export interface AsyncLlmClient {
  readonly poolSize: number;
  run<T>(task: (options: LlmRequestOptions) => T | PromiseLike<T>, opts?: { key?: unknown; signal?: AbortSignal }): Promise<T>;
  generateResponseAsync(messages: readonly ChatMessageLike[] | string, opts?: { signal?: AbortSignal; model?: string }): Promise<unknown>;
}

export declare function getAsyncLlmClient(poolSizeOrOptions?: number | AsyncLlmClientOptions): AsyncLlmClient;
export declare function useNewLlmPath(context?: { key?: unknown }): boolean;
export declare function extractOutputText(response: unknown): string;
export declare function llmHttpError(err: unknown): { status: number; headers: Record<string, string>; body: unknown } | undefined;
export declare function handleLlmErrors<H extends (...args: any[]) => unknown>(handler: H): H;
export declare function llmMetricsResponse(request?: { format?: unknown; accept?: unknown }): Promise<{ status: number; contentType: string; body: string }>;
