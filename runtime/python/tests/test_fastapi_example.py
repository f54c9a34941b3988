"""The legacy FastAPI example (fixtures/servers/fastapi/input) under real uvicorn.

Before: its sync LLM call inside an ``async def`` route blocks the event loop, so concurrent
chats are served one at a time. After: the same app migrated by hand to the shape in
runtime/python/README.md, with llm_api.py vendored beside it, serves them pool-size at a time.

Run from the repository root:

    PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m unittest discover -s runtime/python/tests -v
"""

import asyncio
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import httpx

from upstream_stub import UpstreamStub

EXAMPLE_DIR = pathlib.Path(__file__).resolve().parents[3] / "fixtures" / "servers" / "fastapi" / "input"
RUNTIME = pathlib.Path(__file__).resolve().parents[1] / "llm_api.py"

# The chat route and additions of a migrated app; the transform's expected output is its own fixture.
MIGRATED_IMPORTS = """import asyncio
from typing import List, Optional

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from .llm_api import LlmError, extract_output_text, get_async_llm_client, llm_http_error, metrics_response, use_new_llm_path
from .llm_client import LlmClient

app = FastAPI(title="support-chat")

get_async_llm_client(pool_size=10, canary_percent=100)
"""
MIGRATED_ROUTES = """
@app.get("/metrics/llm")
async def llm_metrics(request: Request, format: Optional[str] = None):
    status, content_type, body = metrics_response(format=format, headers=request.headers)
    return Response(body, status_code=status, media_type=content_type)


@app.exception_handler(LlmError)
async def llm_unavailable(request: Request, exc: LlmError):
    status, headers, body = llm_http_error(exc)  # every LlmError is retryable: 503 + Retry-After
    return JSONResponse(body, status_code=status, headers=headers)
"""
LEGACY_CALL = "    response = llm_client.generate_response(messages)\n"
MIGRATED_CALL = """    response = (
        extract_output_text(await get_async_llm_client().generate_response_async(messages))
        if use_new_llm_path(key=request.user_id)
        else await asyncio.to_thread(llm_client.generate_response, messages)
    )
"""


def migrate_by_hand(source):
    _, rest = source.split("\n\nllm_client = None\n", 1)
    assert LEGACY_CALL in rest
    return MIGRATED_IMPORTS + "\nllm_client = None\n" + MIGRATED_ROUTES + rest.replace(LEGACY_CALL, MIGRATED_CALL)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FastApiExampleTest(unittest.TestCase):
    def setUp(self):
        self.stub = UpstreamStub(latency_s=0.3).start()
        self.addCleanup(self.stub.stop)

    def start_server(self, app_dir, **settings):
        self.port = free_port()
        log = tempfile.TemporaryFile()
        self.addCleanup(log.close)
        env = dict(os.environ, OPENAI_BASE_URL=self.stub.base_url, OPENAI_API_KEY="sk-test", PYTHONDONTWRITEBYTECODE="1")
        for name in ("LLM_POOL_SIZE", "LLM_CANARY_PERCENT", "FORCE_LEGACY_LLM", "DISABLE_POOL", "EMERGENCY_MODE"):
            env.pop(name, None)
        env.update(settings)
        self.server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=app_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.addCleanup(self.stop_server)
        self.wait_until_ready(log)

    def start_migrated_server(self, **settings):
        """A copy of the example with the chat route migrated and llm_api.py vendored beside it."""
        app_dir = pathlib.Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, app_dir)
        shutil.copytree(EXAMPLE_DIR / "app", app_dir / "app")
        main = app_dir / "app" / "main.py"
        main.write_text(migrate_by_hand(main.read_text()))
        shutil.copy(RUNTIME, app_dir / "app" / "llm_api.py")
        self.start_server(app_dir, **settings)

    def stop_server(self):
        self.server.terminate()
        self.server.wait(timeout=10)

    def wait_until_ready(self, log):
        give_up = time.monotonic() + 30
        while time.monotonic() < give_up:
            if self.server.poll() is not None:
                log.seek(0)
                self.fail(f"uvicorn exited with {self.server.returncode}:\n{log.read().decode(errors='replace')}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.fail("uvicorn did not answer /health within 30 s")

    async def chat_concurrently(self, users):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}", timeout=60) as http:
            return await asyncio.gather(
                *(
                    http.post("/chat", json={"user_id": user, "messages": [{"role": "user", "content": f"hello from {user}"}]})
                    for user in users
                )
            )

    def test_serves_nine_concurrent_chats_one_at_a_time(self):
        self.start_server(EXAMPLE_DIR)
        users = [f"user-{i}" for i in range(9)]
        replies = asyncio.run(self.chat_concurrently(users))
        self.assertEqual([reply.status_code for reply in replies], [200] * 9)
        self.assertEqual(
            [reply.json() for reply in replies],
            [{"user_id": user, "reply": f"echo: hello from {user}"} for user in users],
        )
        self.assertEqual(len(self.stub.arrivals), 9)
        self.assertEqual(self.stub.peak_in_flight, 1, "the blocking call serialises every chat")

    def test_migrated_by_hand_it_serves_pool_size_chats_at_once(self):
        self.start_migrated_server(LLM_POOL_SIZE="3")

        users = [f"user-{i}" for i in range(9)]
        replies = asyncio.run(self.chat_concurrently(users))
        self.assertEqual(
            [reply.json() for reply in replies],
            [{"user_id": user, "reply": f"echo: hello from {user}"} for user in users],
        )
        self.assertIn(self.stub.peak_in_flight, (2, 3))
        metrics = httpx.get(f"http://127.0.0.1:{self.port}/metrics/llm").json()
        self.assertEqual(
            {k: metrics[k] for k in ("poolSize", "requestsTotal", "errorsTotal", "paths")},
            {"poolSize": 3, "requestsTotal": 9, "errorsTotal": 0, "paths": {"new": 9, "legacy": 0}},
        )
        prometheus = httpx.get(f"http://127.0.0.1:{self.port}/metrics/llm", params={"format": "prometheus"})
        self.assertIn('llm_requests_total{outcome="ok"} 9\n', prometheus.text)

    def test_migrated_by_hand_it_takes_the_legacy_path_when_forced(self):
        self.start_migrated_server(FORCE_LEGACY_LLM="true")

        replies = asyncio.run(self.chat_concurrently(["user-a", "user-b", "user-c"]))
        self.assertEqual([reply.status_code for reply in replies], [200] * 3)
        metrics = httpx.get(f"http://127.0.0.1:{self.port}/metrics/llm").json()
        self.assertEqual((metrics["paths"], metrics["requestsTotal"]), ({"new": 0, "legacy": 3}, 0))

    def test_migrated_by_hand_it_answers_503_with_retry_after_when_shedding(self):
        self.start_migrated_server(LLM_POOL_SIZE="1", EMERGENCY_MODE="true")

        replies = asyncio.run(self.chat_concurrently(["user-a", "user-b"]))
        self.assertEqual(sorted(reply.status_code for reply in replies), [200, 503])
        shed = next(reply for reply in replies if reply.status_code == 503)
        self.assertEqual(shed.headers["retry-after"], "1")
        self.assertEqual(shed.json()["error"]["code"], "llm_overloaded")


if __name__ == "__main__":
    unittest.main()
