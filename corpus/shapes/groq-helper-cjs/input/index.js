const express = require("express");
const Groq = require("groq-sdk");

const groq = new Groq({ apiKey: process.env.GROQ_API_KEY });
const app = express();
app.use(express.json());

async function ask(question) {
  const completion = await groq.chat.completions.create({
    model: "llama3-8b-8192",
    messages: [{ role: "user", content: question }],
  });
  return completion.choices[0]?.message?.content ?? "";
}

app.post("/", async (req, res) => {
  res.json({ answer: await ask(req.body.question) });
});

app.listen(3000);
