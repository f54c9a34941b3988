const https = require("https");
const fs = require("fs");

async function answer(res, prompt) {
  // Built per request, but from the server's own key: same upstream account, so it should be gated.
  const { Configuration, OpenAIApi } = require("openai");
  const openai = new OpenAIApi(new Configuration({ apiKey: process.env.OPENAI_API_KEY }));
  const response = await openai.createCompletion({ model: "text-davinci-003", prompt });
  res.end(JSON.stringify(response.data));
}

https
  .createServer({ key: fs.readFileSync("key.pem"), cert: fs.readFileSync("cert.pem") }, (req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => answer(res, JSON.parse(body).prompt));
  })
  .listen(2083);
