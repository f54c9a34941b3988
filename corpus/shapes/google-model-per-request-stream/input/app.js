const express = require("express");
const { GoogleGenerativeAI } = require("@google/generative-ai");

const genAI = new GoogleGenerativeAI(process.env.API_KEY);
const app = express();
app.use(express.json());

app.post("/generate", async (req, res) => {
  const model = genAI.getGenerativeModel({ model: "gemini-pro" });
  const result = await model.generateContentStream([req.body.input]);
  let text = "";
  for await (const chunk of result.stream) text += chunk.text();
  res.send(text);
});

app.listen(3000);
