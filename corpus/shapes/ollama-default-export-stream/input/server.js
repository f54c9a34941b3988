import express from "express";
import ollama from "ollama";

const app = express();
app.use(express.json());

app.post("/api/chat", async (req, res) => {
  const stream = await ollama.chat({
    model: process.env.MODEL,
    messages: [{ role: "user", content: req.body.message }],
    stream: true,
  });
  for await (const part of stream) res.write(part.message.content);
  res.end();
});

app.listen(5555);
