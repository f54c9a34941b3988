from fastapi import APIRouter

from app.services.llm import llm_client

api_router = APIRouter()


@api_router.post("/generate_message")
async def generate_message(payload: dict):
    return {"response": await llm_client.generate_message(payload["message"])}
