const rp = require("request-promise");

// Plain HTTP to the completions endpoint, no SDK.
async function complete(prompt) {
  const body = await rp({
    method: "POST",
    uri: "https://api.openai.com/v1/completions",
    headers: { Authorization: `Bearer ${process.env.OPENAI_API_KEY}` },
    body: { model: "gpt-3.5-turbo-instruct", prompt, max_tokens: 256 },
    json: true,
  });
  return body.choices[0].text;
}

module.exports = complete;
