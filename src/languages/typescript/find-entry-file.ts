import { Node, SyntaxKind } from "./ts-morph.js";
import type { SourceFile } from "ts-morph";

const ENTRY_NAMES = /(^|\/)(server|index|app|main)\.[cm]?[jt]sx?$/;

/**
 * The file that starts the server: the one that calls `.listen(...)`, preferring the usual entry
 * names when several do; else a file with an entry name; else undefined.
 */
export function findEntryFile(files: readonly SourceFile[], rootDir: string, entry?: string): SourceFile | undefined {
  if (entry) {
    const wanted = `${rootDir.replace(/\/$/, "")}/${entry.replace(/^\.\//, "")}`;
    return files.find((f) => f.getFilePath() === wanted);
  }
  const listening = files.filter((file) =>
    file.getDescendantsOfKind(SyntaxKind.CallExpression).some((call) => {
      const callee = call.getExpression();
      return Node.isPropertyAccessExpression(callee) && callee.getName() === "listen";
    }),
  );
  const byName = (candidates: readonly SourceFile[]) =>
    candidates.find((f) => ENTRY_NAMES.test(f.getFilePath())) ?? candidates[0];
  return byName(listening) ?? files.find((f) => ENTRY_NAMES.test(f.getFilePath()));
}
