import { styleText } from "node:util";

export type Style = "bold" | "dim" | "red" | "green" | "yellow" | "cyan";
export type Paint = (style: Style, text: string) => string;

/**
 * Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). The decision
 * is made here for the stream the report goes to, so styleText is told not to look at process.stdout.
 */
export function paintFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Paint {
  const enabled = Boolean(stream.isTTY) && !env.NO_COLOR;
  return enabled ? (style, text) => styleText(style, text, { validateStream: false }) : (_style, text) => text;
}
