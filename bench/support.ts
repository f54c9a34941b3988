// What the runtime benchmarks share: a forced GC, the stub upstream in its own process, a fresh client.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { resetAsyncLlmClientForTests } from "../runtime/client.js";
import { getAsyncLlmClient, type AsyncLlmClient, type AsyncLlmClientOptions } from "../runtime/index.js";

setFlagsFromString("--expose-gc");
export const collectGarbage = runInNewContext("gc") as () => void;

/** The stub in its own process, as a real upstream would be, so its CPU and heap are not ours. */
export async function startStubProcess(args: string[] = []): Promise<{ url: string; child: ChildProcess }> {
  const cli = fileURLToPath(new URL("../src/stub/cli.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", cli, "--port", "0", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /listening on (\S+)/.exec(output);
      if (ready) resolve(ready[1]!);
    });
    child.once("exit", (code) => reject(new Error(`stub exited with ${code}`)));
  });
  return { url, child };
}

/** The process-wide client, made anew with these settings. */
export function freshClient(options: AsyncLlmClientOptions): AsyncLlmClient {
  resetAsyncLlmClientForTests();
  return getAsyncLlmClient(options);
}
