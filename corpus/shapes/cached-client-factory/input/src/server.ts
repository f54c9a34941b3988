import express from "express";
import OpenAI from "openai";

class ClientFactory {
  private readonly clients = new Map<string, OpenAI>();

  getClient(kind: string): OpenAI {
    let client = this.clients.get(kind);
    if (!client) {
      client = new OpenAI({ apiKey: process.env[`OPENAI_API_KEY_${kind}`] });
      this.clients.set(kind, client);
    }
    return client;
  }
}

const factory = new ClientFactory();
const app = express();
app.use(express.json());

app.post("/ask", async (req, res) => {
  const client = factory.getClient("DEFAULT");
  const response = await client.responses.create({ model: "gpt-4o-mini", input: req.body.prompt });
  res.json({ text: response.output_text });
});

app.listen(3000);
