import type { SourceFile } from "ts-morph";
import type { FrameworkAdapter } from "./adapter.js";
import { express } from "./express.js";

export type { FrameworkAdapter, RouteHandler, RouteRegistration } from "./adapter.js";

/** Adding a framework is one adapter here plus its fixtures. */
export const frameworks: readonly FrameworkAdapter[] = [express];

export function detectFramework(files: readonly SourceFile[]): FrameworkAdapter | undefined {
  return frameworks.find((framework) => framework.detect(files));
}
