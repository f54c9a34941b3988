import express from "express";
import { ChatOllama } from "@langchain/ollama";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { StringOutputParser } from "@langchain/core/output_parsers";

const app = express();
app.use(express.json());

const chatModel = new ChatOllama({ model: "llama3.2" });

app.post("/", async (req, res) => {
  const prompt = ChatPromptTemplate.fromMessages([["user", "{question}"]]);
  const chain = prompt.pipe(chatModel).pipe(new StringOutputParser());
  const stream = await chain.stream({ question: req.body.question });
  for await (const chunk of stream) res.write(chunk);
  res.end();
});

app.listen(8000);
