import { Injectable } from "@nestjs/common";
import OpenAI from "openai";

@Injectable()
export class LlmService {
  constructor(private readonly openai: OpenAI) {}

  async complete(messages: OpenAI.Chat.ChatCompletionMessageParam[]) {
    return this.openai.chat.completions.create({ model: "gpt-4o-mini", messages });
  }
}
