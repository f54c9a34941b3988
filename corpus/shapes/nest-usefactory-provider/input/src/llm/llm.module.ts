import { Module } from "@nestjs/common";
import OpenAI from "openai";
import { LlmController } from "./llm.controller";
import { LlmService } from "./llm.service";

@Module({
  controllers: [LlmController],
  providers: [LlmService, { provide: OpenAI, useFactory: () => new OpenAI({ apiKey: process.env.OPENAI_API_KEY }) }],
})
export class LlmModule {}
