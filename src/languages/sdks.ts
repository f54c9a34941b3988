/**
 * The LLM SDKs the migration knows, as data: one row per SDK. Detection in both languages, the
 * relevance filter and the report read this table, so a new SDK is one row plus its fixtures.
 *
 * A row says where the SDK comes from (packages, client classes or factory functions), which of
 * its calls reach the network (as property paths from the client, or free functions), which of
 * those stream and how, and how the runtime's request options `{ signal, timeout, maxRetries }`
 * reach the call (each SDK spells them differently).
 */

/** How the runtime's request options reach one SDK call. */
export type OptionsForm =
  /** The options object is one argument, taken whole (`create(params, { signal, timeout, maxRetries })`). */
  | { argument: number; fields: "whole" }
  /**
   * Named fields of one argument, inside `within` when set (`generateContent({ ..., config: { abortSignal } })`).
   * Values are expressions over the runtime's options, written `$.signal`.
   */
  | { argument: number; within?: string; fields: Readonly<Record<string, string>> }
  /** The SDK takes no per-request signal: the gate still bounds concurrency, but a deadline cannot cancel the request. */
  | { argument?: undefined; fields: "none" };

/**
 * How a call streams. "param": when its first argument has `stream: true` (or any `stream`
 * that is not `false`). "always": the call itself streams. A stream the runtime can follow to
 * its end ("iterable": the call's result, or its promise's, is an async iterable) holds a pool
 * slot until it ends; any other stream ("opaque": an axios response, `{ stream, response }`,
 * the `ai` package's result object) cannot, so such a call is left for a human.
 */
export interface StreamForm {
  when: "param" | "always";
  result: "iterable" | "opaque";
  /** True when the call returns the stream itself rather than a promise (`chat.completions.stream()`, `streamText()`). */
  sync?: boolean;
}

export interface SdkCall {
  /** Property path from the client (`chat.completions.create`), or the function's name for a free function (`generateText`). */
  path: string;
  stream?: StreamForm;
  /** Overrides the row's options form for this call. */
  options?: OptionsForm;
}

export interface SdkRow {
  /** Stable id used in reports and fixtures. */
  id: string;
  language: "typescript" | "python";
  /** Packages (npm) or top-level modules (Python) it is imported from. */
  packages: readonly string[];
  /** Exported classes whose instances are clients (`new OpenAI()`); empty when the SDK has none. */
  clientClasses: readonly string[];
  /**
   * Exported objects that already are a client (`import ollama from "ollama"`, Python's `openai`
   * module before 1.0): "default" for a default export, else the export's name.
   */
  clientExports?: readonly string[];
  /**
   * Client methods whose result is another client of this SDK, with the calls that can be made
   * on it (`getGenerativeModel()` → `generateContent`, `chats.create()` → `sendMessage`).
   */
  derived?: readonly { path: string; calls: readonly SdkCall[] }[];
  /** Calls on the client (or free functions, when `freeFunctions`) that reach the network. */
  calls: readonly SdkCall[];
  /** True when `calls` are functions imported from the package, not methods of a client. */
  freeFunctions?: boolean;
  /** How the runtime's request options reach these calls, unless a call says otherwise. */
  options: OptionsForm;
  /** A general-purpose HTTP client: its calls are LLM calls only when their URL or payload says so. */
  generalHttp?: boolean;
  /** A model run in-process (no network): the call holds a CPU or GPU, not an upstream connection. */
  runsLocally?: boolean;
}

const STAINLESS: OptionsForm = { argument: 1, fields: "whole" };
const PARAM_STREAM: StreamForm = { when: "param", result: "iterable" };
const HELPER_STREAM: StreamForm = { when: "always", result: "iterable", sync: true };
const calls = (paths: readonly string[], stream?: StreamForm): SdkCall[] => paths.map((path) => (stream ? { path, stream } : { path }));

/** OpenAI's v4+ endpoints, shared by its Azure client and the SDKs generated from the same spec. */
const OPENAI_CALLS: readonly SdkCall[] = [
  ...calls(["chat.completions.create", "completions.create", "responses.create"], PARAM_STREAM),
  ...calls(["chat.completions.parse", "beta.chat.completions.parse", "responses.parse"]),
  ...calls(["chat.completions.stream", "beta.chat.completions.stream", "responses.stream"], HELPER_STREAM),
  ...calls(["embeddings.create", "moderations.create", "images.generate", "images.edit"]),
  ...calls(["audio.transcriptions.create", "audio.translations.create", "audio.speech.create"]),
];

export const SDKS: readonly SdkRow[] = [
  // TypeScript / JavaScript
  { id: "openai", language: "typescript", packages: ["openai"], clientClasses: ["OpenAI", "AzureOpenAI"], calls: OPENAI_CALLS, options: STAINLESS },
  {
    // v3: axios request config as the second argument (`signal` and `timeout` work there).
    id: "openai-v3",
    language: "typescript",
    packages: ["openai"],
    clientClasses: ["OpenAIApi"],
    calls: calls(["createChatCompletion", "createCompletion", "createEmbedding", "createModeration"], { when: "param", result: "opaque" }),
    options: { argument: 1, fields: "whole" },
  },
  {
    // The 1.0 betas: (deployment, messages, options) with `abortSignal` and `requestOptions.timeout`.
    id: "azure-openai",
    language: "typescript",
    packages: ["@azure/openai"],
    clientClasses: ["OpenAIClient"],
    calls: [
      ...calls(["getChatCompletions", "getCompletions", "getEmbeddings", "getImages"]),
      ...calls(["streamChatCompletions", "streamCompletions"], { when: "always", result: "iterable" }),
      // The earliest betas' names for the stream return the async iterable itself, not a promise of it.
      ...calls(["listChatCompletions", "listCompletions"], { when: "always", result: "iterable", sync: true }),
    ],
    options: { argument: 2, fields: { abortSignal: "$.signal", requestOptions: "{ timeout: $.timeout }" } },
  },
  {
    id: "anthropic",
    language: "typescript",
    packages: ["@anthropic-ai/sdk"],
    clientClasses: ["Anthropic"],
    calls: [
      ...calls(["messages.create", "beta.messages.create", "completions.create"], PARAM_STREAM),
      ...calls(["messages.stream", "beta.messages.stream"], HELPER_STREAM),
    ],
    options: STAINLESS,
  },
  {
    // One argument: the request, whose `config.abortSignal` cancels it.
    id: "google-genai",
    language: "typescript",
    packages: ["@google/genai"],
    clientClasses: ["GoogleGenAI"],
    calls: [
      ...calls(["models.generateContent", "models.embedContent", "models.generateImages", "models.countTokens"]),
      ...calls(["models.generateContentStream"], { when: "always", result: "iterable" }),
    ],
    derived: [
      {
        path: "chats.create",
        calls: [...calls(["sendMessage"]), ...calls(["sendMessageStream"], { when: "always", result: "iterable" })],
      },
    ],
    options: { argument: 0, within: "config", fields: { abortSignal: "$.signal" } },
  },
  {
    // Calls go through the model object; single-request options `{ signal, timeout }` are the second argument.
    id: "google-generative-ai",
    language: "typescript",
    packages: ["@google/generative-ai"],
    clientClasses: ["GoogleGenerativeAI"],
    calls: [],
    derived: [
      {
        path: "getGenerativeModel",
        calls: [
          ...calls(["generateContent", "embedContent", "batchEmbedContents", "countTokens"]),
          ...calls(["generateContentStream"], { when: "always", result: "opaque" }),
        ],
      },
      {
        path: "getGenerativeModel.startChat",
        calls: [...calls(["sendMessage"]), ...calls(["sendMessageStream"], { when: "always", result: "opaque" })],
      },
    ],
    options: { argument: 1, fields: { signal: "$.signal", timeout: "$.timeout" } },
  },
  {
    // Plain HTTP to an LLM API, no SDK: `rp({ uri: "https://api.openai.com/v1/completions", … })`,
    // `axios.post(url, body)`, `fetch(url, init)`. An LLM call only when its URL says so. The
    // request's own options are left as written (each library spells a signal differently).
    id: "node-http",
    language: "typescript",
    packages: ["request-promise", "request-promise-native", "request", "axios", "node-fetch", "got", "undici"],
    clientClasses: [],
    calls: calls(["", "post", "request", "fetch"]),
    options: { fields: "none" },
    generalHttp: true,
  },
  {
    // No per-request signal: `abort()` cancels every request of the client at once.
    id: "ollama",
    language: "typescript",
    packages: ["ollama", "ollama/browser"],
    clientClasses: ["Ollama"],
    clientExports: ["default"],
    calls: [...calls(["chat", "generate"], PARAM_STREAM), ...calls(["embed", "embeddings"])],
    options: { fields: "none" },
  },
  { id: "groq", language: "typescript", packages: ["groq-sdk"], clientClasses: ["Groq"], calls: OPENAI_CALLS, options: STAINLESS },
  {
    // v1 (Speakeasy): second argument `{ fetchOptions: { signal }, timeoutMs }`; v0 `MistralClient` below.
    id: "mistral",
    language: "typescript",
    packages: ["@mistralai/mistralai"],
    clientClasses: ["Mistral"],
    calls: [
      ...calls(["chat.complete", "fim.complete", "agents.complete", "embeddings.create"]),
      ...calls(["chat.stream", "fim.stream", "agents.stream"], { when: "always", result: "iterable" }),
    ],
    options: { argument: 1, fields: { fetchOptions: "{ signal: $.signal }", timeoutMs: "$.timeout" } },
  },
  {
    id: "mistral-v0",
    language: "typescript",
    packages: ["@mistralai/mistralai"],
    clientClasses: ["MistralClient"],
    calls: [...calls(["chat", "embeddings", "completion"]), ...calls(["chatStream", "completionStream"], { when: "always", result: "iterable", sync: true })],
    options: { argument: 1, fields: { signal: "$.signal" } },
  },
  {
    // Chat models, LLMs, chains and any runnable: RunnableConfig `{ signal, timeout }` as the second argument.
    id: "langchain",
    language: "typescript",
    packages: [
      "langchain",
      "@langchain/core",
      "@langchain/openai",
      "@langchain/anthropic",
      "@langchain/google-genai",
      "@langchain/google-vertexai",
      "@langchain/ollama",
      "@langchain/groq",
      "@langchain/mistralai",
      "@langchain/community",
      "@langchain/aws",
    ],
    clientClasses: [
      "ChatOpenAI",
      "AzureChatOpenAI",
      "ChatAnthropic",
      "ChatGoogleGenerativeAI",
      "ChatVertexAI",
      "ChatOllama",
      "ChatGroq",
      "ChatMistralAI",
      "ChatBedrockConverse",
      // LLMs (text in, text out) of the same packages.
      "OpenAI",
      "AzureOpenAI",
      "Ollama",
    ],
    calls: [
      ...calls(["invoke", "batch", "call", "predict", "generate"]),
      ...calls(["stream"], { when: "always", result: "iterable" }),
      // Embeddings take no options: gated for concurrency only.
      { path: "embedQuery", options: { fields: "none" } },
      { path: "embedDocuments", options: { fields: "none" } },
    ],
    // Runnables made from a model: chains (`prompt.pipe(model)`, `RunnableSequence.from([...])`) and configured models.
    derived: ["runnable", "withStructuredOutput", "bindTools", "bind", "withConfig", "withRetry", "withFallbacks"].map((path) => ({
      path,
      calls: [...calls(["invoke", "batch"]), ...calls(["stream"], { when: "always", result: "iterable" })],
    })),
    options: { argument: 1, fields: { signal: "$.signal", timeout: "$.timeout" } },
  },
  {
    id: "langchain-embeddings",
    language: "typescript",
    packages: ["@langchain/openai", "@langchain/google-genai", "@langchain/ollama", "@langchain/mistralai", "@langchain/community"],
    clientClasses: ["OpenAIEmbeddings", "AzureOpenAIEmbeddings", "GoogleGenerativeAIEmbeddings", "OllamaEmbeddings", "MistralAIEmbeddings"],
    calls: calls(["embedQuery", "embedDocuments"]),
    options: { fields: "none" },
  },
  {
    // Functions taking one object; `abortSignal` and `maxRetries` are fields of it. A streamText
    // result is an object of streams whose end the runtime cannot follow.
    id: "ai",
    language: "typescript",
    packages: ["ai"],
    clientClasses: [],
    freeFunctions: true,
    calls: [
      ...calls(["generateText", "generateObject", "embed", "embedMany"]),
      ...calls(["streamText", "streamObject"], { when: "always", result: "opaque", sync: true }),
    ],
    options: { argument: 0, fields: { abortSignal: "$.signal", maxRetries: "$.maxRetries" } },
  },

  // Python (options are keyword arguments there; the Python runtime passes them itself)
  {
    id: "py-openai",
    language: "python",
    packages: ["openai"],
    // `Client` and `AsyncClient` are the package's own aliases of OpenAI and AsyncOpenAI.
    clientClasses: ["OpenAI", "AsyncOpenAI", "AzureOpenAI", "AsyncAzureOpenAI", "Client", "AsyncClient"],
    calls: [
      ...calls(["chat.completions.create", "completions.create", "responses.create"], PARAM_STREAM),
      ...calls(["embeddings.create", "moderations.create", "images.generate", "beta.chat.completions.parse", "chat.completions.parse", "responses.parse"]),
    ],
    options: { fields: "none" },
  },
  {
    // Before 1.0 the module itself is the client: `openai.ChatCompletion.create(...)`.
    id: "py-openai-v0",
    language: "python",
    packages: ["openai"],
    clientClasses: [],
    clientExports: ["openai"],
    calls: [...calls(["ChatCompletion.create", "Completion.create"], PARAM_STREAM), ...calls(["Embedding.create", "Moderation.create"])],
    options: { fields: "none" },
  },
  {
    id: "py-anthropic",
    language: "python",
    packages: ["anthropic"],
    clientClasses: ["Anthropic", "AsyncAnthropic"],
    calls: [...calls(["messages.create", "completions.create"], PARAM_STREAM), ...calls(["messages.stream"], { when: "always", result: "iterable", sync: true })],
    options: { fields: "none" },
  },
  {
    // Generated from the same spec as openai's: the same endpoints on `Groq` and `AsyncGroq`.
    id: "py-groq",
    language: "python",
    packages: ["groq"],
    clientClasses: ["Groq", "AsyncGroq"],
    calls: [...calls(["chat.completions.create"], PARAM_STREAM), ...calls(["embeddings.create", "audio.transcriptions.create"])],
    options: { fields: "none" },
  },
  {
    // Blocking HTTP posts; only those whose URL reaches an LLM API are LLM calls (see the Python detection).
    id: "py-http",
    language: "python",
    packages: ["requests", "httpx"],
    clientClasses: ["Client", "Session", "session"], // requests.session() is the old spelling of Session()
    clientExports: ["requests", "httpx"],
    calls: calls(["post"]),
    options: { fields: "none" },
    generalHttp: true,
  },
  {
    // A local model run in-process: calling the model object runs it.
    id: "py-llama-cpp",
    language: "python",
    packages: ["llama_cpp"],
    clientClasses: ["Llama"],
    calls: [...calls(["", "create_chat_completion", "create_completion"], PARAM_STREAM), ...calls(["embed", "create_embedding"])],
    options: { fields: "none" },
    runsLocally: true,
  },
  {
    id: "py-transformers",
    language: "python",
    packages: ["transformers"],
    clientClasses: [],
    clientExports: ["pipeline"],
    calls: calls([""]),
    options: { fields: "none" },
    runsLocally: true,
  },
];

export function sdkRows(language: SdkRow["language"]): SdkRow[] {
  return SDKS.filter((row) => row.language === language);
}

/** Every package name of the rows, for the relevance filter: a file that names none of them (nor a wrapper) is not parsed. */
export function sdkPackageNames(language?: SdkRow["language"]): string[] {
  // Node's HTTP clients are everywhere; a file posting to an LLM API names it in words the filter knows (openai, completions, llm).
  const rows = SDKS.filter((row) => (!language || row.language === language) && !(row.generalHttp && row.language === "typescript"));
  return [...new Set(rows.flatMap((row) => row.packages))];
}

/** The options form of one call of a row. */
export function optionsFormOf(row: SdkRow, call: SdkCall): OptionsForm {
  return call.options ?? row.options;
}

/**
 * Where LLM APIs answer plain HTTP, for requests made with a general HTTP client (`requests.post`,
 * `httpx.post`): such a request is an LLM call when its URL points here. A URL the code spells
 * out in full that points elsewhere (the project's own API, a webhook) is not one, whatever its
 * payload says.
 */
export const LLM_HTTP_APIS = {
  /** Hosts of hosted LLM APIs; an entry starting with "." matches any subdomain. */
  hosts: [
    "api.openai.com",
    ".openai.azure.com",
    "api.anthropic.com",
    "api.groq.com",
    "api.mistral.ai",
    "generativelanguage.googleapis.com",
    "api.together.xyz",
    "openrouter.ai",
    "api.deepseek.com",
    "api.fireworks.ai",
    "api.perplexity.ai",
    "api.cohere.com",
    "api.cohere.ai",
  ],
  /** Paths of the OpenAI-compatible, Anthropic and Gemini APIs: local servers (vLLM, llama.cpp, LM Studio) answer them too, so they count on any host. */
  paths: ["/chat/completions", "/v1/completions", "/v1/responses", "/v1/messages", "/v1/embeddings", ":generateContent", ":streamGenerateContent"],
  /** Ollama's native API: its paths are generic, so they count only on its port, on a host named for it, or when the code does not say the host. */
  ollama: { port: 11434, host: "ollama", paths: ["/api/generate", "/api/chat", "/api/embeddings", "/api/embed"] },
} as const;
