// A sticky canary everywhere: gated calls in any module use the key of the request they serve.
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resetAsyncLlmClientForTests } from "../../runtime/client.js";
import { gateLlmCall, getAsyncLlmClient, handleLlmErrors, isInCanary } from "../../runtime/index.js";

/** A service function far from the request: it has no key to give (seen: drawn at random per call). */
function summarise(): Promise<"new" | "legacy"> {
  return gateLlmCall({}, (options) => (options ? "new" : "legacy"));
}

describe("the request's key in AsyncLocalStorage", () => {
  let base: string;
  let close: () => void;
  beforeAll(async () => {
    resetAsyncLlmClientForTests();
    process.env.LLM_CANARY_PERCENT = "30";
    getAsyncLlmClient({ poolSize: 4, canaryPercent: 30 });
    const app = express();
    app.use((req, _res, next) => {
      const id = req.get("x-user-id");
      if (id) (req as unknown as { user: { id: string } }).user = { id };
      next();
    });
    app.get("/summary", handleLlmErrors(async (_req, res) => {
      res.json({ paths: [await summarise(), await summarise()] });
    }));
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => {
    close();
    delete process.env.LLM_CANARY_PERCENT;
    resetAsyncLlmClientForTests();
  });

  it("puts every call of one user on the side the canary gives that user, request after request", async () => {
    for (let user = 0; user < 40; user++) {
      const expected = isInCanary(`user-${user}`, 30) ? "new" : "legacy";
      for (let request = 0; request < 2; request++) {
        const answer = await fetch(`${base}/summary`, { headers: { "x-user-id": `user-${user}` } });
        expect(((await answer.json()) as { paths: string[] }).paths).toEqual([expected, expected]);
      }
    }
  });

  // Without the store, keyless calls are drawn at random: at 30 % two calls differ 42 % of the time.
  it("keys a request with no user by its client address, so its calls still agree", async () => {
    for (let request = 0; request < 10; request++) {
      const { paths } = (await (await fetch(`${base}/summary`)).json()) as { paths: string[] };
      expect(paths[0]).toBe(paths[1]);
    }
  });
});
