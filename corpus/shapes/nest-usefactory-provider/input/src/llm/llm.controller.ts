import { Body, Controller, Post } from "@nestjs/common";
import { LlmService } from "./llm.service";

@Controller("llm")
export class LlmController {
  constructor(private readonly llm: LlmService) {}

  @Post("chat")
  chat(@Body() body: { messages: [] }) {
    return this.llm.complete(body.messages);
  }
}
