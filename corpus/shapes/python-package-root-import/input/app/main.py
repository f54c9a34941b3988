from fastapi import FastAPI

from app.routers.api import api_router
from app.services.llm import llm_client

app = FastAPI()


@app.on_event("startup")
async def startup():
    llm_client.setup()


app.include_router(api_router)
