import express from "express";
import { gateway, streamText } from "ai";

const app = express();
app.use(express.json());

app.post("/", async (req, res) => {
  const result = streamText({ model: gateway("openai/gpt-4o-mini"), prompt: req.body.prompt });
  result.pipeTextStreamToResponse(res);
});

// Deployed as a serverless function: no listen().
export default app;
