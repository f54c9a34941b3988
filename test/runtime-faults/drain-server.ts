// A tiny Express chat server using the runtime as a migrated server does, which drains on SIGTERM:
// it stops taking connections, queued LLM calls fail at once (503 + Retry-After through
// handleLlmErrors), in-flight ones finish and are answered, then the process exits on its own.
import express from "express";
import { extractOutputText, getAsyncLlmClient, handleLlmErrors, llmMetricsResponse } from "../../runtime/index.js";

getAsyncLlmClient({ poolSize: 2 });

const app = express();
app.use(express.json());

app.get("/metrics/llm", async (req, res) => {
  const metrics = await llmMetricsResponse({ query: req.query, headers: req.headers });
  res.status(metrics.status).type(metrics.contentType).send(metrics.body);
});

app.post(
  "/chat",
  handleLlmErrors(async (req, res) => {
    const reply = extractOutputText(await getAsyncLlmClient().generateResponseAsync(String(req.body.text)));
    res.json({ reply });
  }),
);

const server = app.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("drain-server listening"));

process.once("SIGTERM", () => {
  console.log("drain-server draining");
  server.close(() => console.log("drain-server closed"));
  void getAsyncLlmClient()
    .drain(10_000)
    .then((finished) => {
      console.log(`drain-server drained, all in-flight calls finished: ${finished}`);
      // Answered keep-alive connections would otherwise hold the process until they time out.
      server.closeIdleConnections();
    });
});
