"""A small OpenAI-compatible upstream on 127.0.0.1 for the runtime's tests.

Answers POST /v1/responses and /v1/chat/completions after a set latency, counts the calls
in flight (and the peak), answers 429 + retry-after-ms beyond an optional concurrency
limit (or, with a serving limit, makes the calls beyond it wait their turn), and plays
scripted replies (429s, 5xx, insufficient_quota) first when given.
"""

import collections
import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Arrival = collections.namedtuple("Arrival", "at label status")


class UpstreamStub:
    def __init__(self, latency_s=0.05, concurrency_limit=None, limit_retry_after_ms=50, rate_limit_headers=False, serving_limit=None):
        self.latency_s = latency_s
        # A congested upstream: this many requests are worked on at once, the others wait their
        # turn (latency grows with the calls in flight beyond it) and none is refused.
        self._serving = threading.Semaphore(serving_limit) if serving_limit else None
        # OpenAI's x-ratelimit-{limit,remaining}-requests on every answer, for the concurrency limit.
        self.rate_limit_headers = rate_limit_headers
        self.concurrency_limit = concurrency_limit
        self.limit_retry_after_ms = limit_retry_after_ms
        self.script = collections.deque()
        self.in_flight = 0
        self.peak_in_flight = 0
        self.arrivals = []
        self._lock = threading.Lock()
        self._server = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def labels(self):
        return [arrival.label for arrival in self.arrivals]

    def reply_next(self, status, body=None, headers=None):
        """Queue a canned reply for the next request, before the normal ones."""
        self.script.append((status, body or {"error": {"message": "scripted", "code": None}}, headers or {}))

    def start(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        # A short poll interval keeps stop() quick; the default waits up to half a second.
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def _admit(self, label):
        """Pick the reply for one request and count it in flight."""
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            if self.script:
                status, body, headers = self.script.popleft()
            elif self.concurrency_limit is not None and self.in_flight > self.concurrency_limit:
                status = 429
                body = {"error": {"message": "too many requests", "type": "requests", "code": "rate_limit_exceeded"}}
                headers = {"retry-after-ms": str(self.limit_retry_after_ms)}
            else:
                status, body, headers = 200, None, {}
            if self.rate_limit_headers and self.concurrency_limit is not None:
                headers = {
                    **headers,
                    "x-ratelimit-limit-requests": str(self.concurrency_limit),
                    "x-ratelimit-remaining-requests": str(max(0, self.concurrency_limit - self.in_flight)),
                }
            self.arrivals.append(Arrival(time.monotonic(), label, status))
        return status, body, headers

    def _leave(self):
        with self._lock:
            self.in_flight -= 1

    def _handler(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self._send(404, {"error": {"message": "not found"}}, {})

            def do_POST(self):
                request = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                prompt = request.get("input", request.get("messages"))
                label = prompt[-1].get("content") if isinstance(prompt, list) and prompt else prompt
                status, body, headers = stub._admit(label)
                try:
                    if status == 200:
                        with stub._serving or contextlib.nullcontext():
                            time.sleep(stub.latency_s)
                        body = self._answer(f"echo: {label}")
                finally:
                    # Out of flight before the reply is written: once the client has read it, its next
                    # request must not find this one still counted (a peak one above the pool).
                    stub._leave()
                if body is None:
                    self._send(404, {"error": {"message": "not found"}}, {})
                else:
                    self._send(status, body, headers)

            def _answer(self, text):
                if self.path.endswith("/responses"):
                    return {
                        "id": "resp_stub",
                        "object": "response",
                        "output": [
                            {
                                "type": "message",
                                "role": "assistant",
                                "content": [{"type": "output_text", "text": text, "annotations": []}],
                            }
                        ],
                    }
                if self.path.endswith("/chat/completions"):
                    return {
                        "id": "chatcmpl_stub",
                        "object": "chat.completion",
                        "choices": [
                            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                        ],
                    }
                return None

            def _send(self, status, body, headers):
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                try:
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller gave up (a deadline in the test); nothing to answer

        return Handler
