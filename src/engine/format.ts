import { join } from "node:path";
import * as prettier from "prettier";

export type FormatResult = { text: string } | { text: string; failure: string };

/**
 * Formats migrated text with the target's own Prettier config, but only when the original file
 * was already formatted by it: otherwise formatting would rewrite lines the migration never touched.
 */
export async function formatLikeTheProject(
  rootDir: string,
  absPath: string,
  originalText: string,
  migratedText: string,
): Promise<FormatResult> {
  try {
    const configFile = await prettier.resolveConfigFile(absPath);
    if (!configFile) return { text: migratedText };
    const info = await prettier.getFileInfo(absPath, { ignorePath: join(rootDir, ".prettierignore") });
    if (info.ignored || !info.inferredParser) return { text: migratedText };
    const options = { ...(await prettier.resolveConfig(absPath, { config: configFile, editorconfig: true })), filepath: absPath };
    if (!(await prettier.check(originalText, options))) return { text: migratedText };
    return { text: await prettier.format(migratedText, options) };
  } catch (error) {
    return { text: migratedText, failure: (error as Error).message.split("\n")[0] ?? "" };
  }
}
