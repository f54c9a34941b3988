import type { ClassDeclaration, NewExpression, SourceFile, VariableDeclaration, Node } from "ts-morph";
import type { SdkRow } from "../sdks.js";
import type { ExportName } from "./modules.js";

/** A long-lived LLM client: an SDK instance (any row of the SDK table) or the project's own wrapper. */
export interface SharedClient {
  name: string;
  sourceFile: SourceFile;
  /**
   * What holds it: a variable (module-level, or local to the function that builds it per request
   * from the server's own key), the `export default new OpenAI()` / `module.exports = new OpenAI()`
   * that exports it with no variable, the import of a ready-made client (`import ollama from
   * "ollama"`), a function that returns a new one, or the class property (`private openai = new
   * OpenAI()`, `this.openai = new OpenAI()`) of a service.
   */
  declaration: VariableDeclaration | Node;
  /** Set for a client held in a class property, reached as `this.<name>` inside that class. */
  ownerClass?: ClassDeclaration;
  /** Every service's own client of the same kind, all gated as one process-wide pool. */
  classProperties?: { ownerClass: ClassDeclaration; name: string }[];
  /** Where it is built; undefined for a ready-made client a package exports. */
  construction?: NewExpression;
  kind: "sdk" | "wrapper";
  constructedWith: string;
  /** SDK only: its row of the SDK table. */
  row?: SdkRow;
  /** Wrapper only: the method that calls the model, and whether it already returns a promise. */
  method?: string;
  methodReturnsPromise?: boolean;
  /** Wrapper only: its class, when the project declares it. */
  wrapperClass?: ClassDeclaration;
  /** Functions that hand the client out (`getClient() { return client ??= new OpenAI() }`, `makeClient() { return new OpenAI() }`). */
  getters: Node[];
  /** Export names when there is no variable to look them up by (`export default new OpenAI()`). */
  exportNames?: ExportName[];
  /** Set for a client made right inside `fastify.decorate("openai", new OpenAI())`: that name. */
  decoratedAs?: string;
  /** Set for a client a Nest provider's `useFactory` makes: the provider's token (`OpenAI`, `"OPENAI_CLIENT"`), as written. */
  injectedAs?: string;
}

/** A client built from the request's own credential (a key from the request, a Workers `env` binding): left as is, by design. */
export interface PerRequestClient {
  construction: NewExpression;
  constructedWith: string;
  row?: SdkRow;
  /** SDK clients: what holds it, so that its calls can be found and reported as left by design. */
  client?: SharedClient;
}

export interface ClientDetection {
  /** The wrapper when there is one, else the first SDK client: what the report names. */
  client?: SharedClient;
  /** Every client whose calls are gated: the wrapper (at most one) and every SDK client. */
  clients: SharedClient[];
  /** Other wrapper-looking clients, when more than one was found (only the first is migrated). */
  others: SharedClient[];
  perRequest: PerRequestClient[];
}

export interface ClientOverrides {
  client?: string;
  method?: string;
}
