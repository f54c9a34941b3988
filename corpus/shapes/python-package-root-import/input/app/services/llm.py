import os

import openai


class LlmClient:
    def setup(self):
        openai.api_key = os.environ.get("OPENAI_API_KEY")

    async def generate_message(self, prompt):
        response = await openai.ChatCompletion.acreate(model="gpt-3.5-turbo", messages=[{"role": "user", "content": prompt}])
        return response.choices[0].message["content"]


llm_client = LlmClient()
