"""Tests of the Python runtime against a real local upstream (tests/upstream_stub.py).

Run from the repository root:

    PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m unittest discover -s runtime/python/tests -v
"""

import asyncio
import json
import os
import pathlib
import sys
import types
import unittest
import urllib.request

import httpx

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import llm_api  # noqa: E402
from upstream_stub import UpstreamStub  # noqa: E402

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
SETTINGS = (
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "LLM_POOL_SIZE",
    "LLM_POOL_MIN",
    "LLM_POOL_MAX",
    "LLM_CANARY_PERCENT",
    "LLM_MAX_QUEUE",
    "LLM_TIMEOUT_MS",
    "FORCE_LEGACY_LLM",
    "DISABLE_POOL",
    "EMERGENCY_MODE",
    "LLM_MAX_RETRIES",
    "LLM_MAX_RETRY_AFTER_MS",
    "LLM_API",
    "LLM_MODEL",
)
# The keys of the TypeScript runtime's getMetrics(), in its order; the SPEC's are a subset.
METRICS_KEYS = [
    "poolSize",
    "poolMode",
    "inFlight",
    "queued",
    "maxQueue",
    "requestsTotal",
    "errorsTotal",
    "errorRate",
    "rps",
    "latencyMs",
    "rateLimitedTotal",
    "retriesTotal",
    "errorsByType",
    "paths",
    "utilisation",
    "windowSeconds",
    "pauseRemainingMs",
    "emergencyMode",
    "draining",
]


def forget_process_client():
    """Start each test as a fresh process would: no client, no counted paths."""
    llm_api._client = None
    llm_api._conflict_warned = False
    llm_api._paths.update(new=0, legacy=0)
    llm_api.reload_llm_switches()


class RuntimeTestCase(unittest.IsolatedAsyncioTestCase):
    """A stub upstream, a clean environment and a fresh process-wide client per test."""

    stub_options = {}

    def setUp(self):
        saved = {name: os.environ.get(name) for name in SETTINGS}

        def restore():
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

        self.addCleanup(restore)
        for name in SETTINGS:
            os.environ.pop(name, None)
        self.stub = UpstreamStub(**self.stub_options).start()
        self.addCleanup(self.stub.stop)
        os.environ["OPENAI_BASE_URL"] = self.stub.base_url
        os.environ["OPENAI_API_KEY"] = "sk-test-secret-key"
        forget_process_client()
        self.addCleanup(forget_process_client)

    def client(self, pool_size=2, **settings):
        client = llm_api.AsyncLlmClient(pool_size, **settings)
        self.addAsyncCleanup(client.drain, 10)
        return client

    async def ask_all(self, client, count, prefix="prompt"):
        """Start ``count`` calls in order; results (or errors) in the same order."""
        return await asyncio.gather(
            *(client.generate_response_async(f"{prefix}-{i}") for i in range(count)),
            return_exceptions=True,
        )


class GateTest(RuntimeTestCase):
    stub_options = {"latency_s": 0.1}

    async def test_keeps_at_most_pool_size_calls_in_flight(self):
        client = self.client(3)
        results = await self.ask_all(client, 12)
        self.assertEqual([llm_api.extract_output_text(r) for r in results], [f"echo: prompt-{i}" for i in range(12)])
        self.assertEqual(self.stub.peak_in_flight, 3)
        self.assertEqual((client.in_flight, client.queued), (0, 0))

    async def test_serves_waiting_calls_first_in_first_out(self):
        client = self.client(1)
        await self.ask_all(client, 8)
        self.assertEqual(self.stub.labels, [f"prompt-{i}" for i in range(8)])

    async def test_rejects_calls_beyond_a_full_queue_with_a_retryable_error(self):
        client = self.client(1, max_queue=2)
        results = await self.ask_all(client, 5)
        self.assertEqual([type(r).__name__ for r in results], ["dict", "dict", "dict", "LlmQueueFullError", "LlmQueueFullError"])
        self.assertTrue(results[3].retryable)
        status, headers, body = llm_api.llm_http_error(results[3])
        self.assertEqual((status, headers), (503, {"Retry-After": "1"}))
        self.assertEqual(body["error"], {"code": "llm_queue_full", "message": "LLM queue is full (2 waiting)", "retryable": True, "retryAfterMs": 1000})

    async def test_one_deadline_covers_the_call_and_the_queue_wait(self):
        self.stub.latency_s = 1.0
        client = self.client(1, timeout_s=0.3)
        results = await self.ask_all(client, 2)
        self.assertEqual([type(r).__name__ for r in results], ["LlmTimeoutError", "LlmTimeoutError"])
        self.assertEqual(self.stub.labels, ["prompt-0"])
        self.assertEqual(client.queued, 0)
        self.assertEqual(llm_api.llm_http_error(results[1])[0], 503)

    async def test_one_deadline_covers_every_retry(self):
        for _ in range(50):
            self.stub.reply_next(500)
        client = self.client(1, timeout_s=1.0, max_retries=50)
        (result,) = await self.ask_all(client, 1)
        self.assertIsInstance(result, llm_api.LlmTimeoutError)
        self.assertIsInstance(result.__cause__, httpx.HTTPStatusError)
        self.assertLess(len(self.stub.arrivals), 6, "retries stopped at the deadline, not at max_retries")

    async def test_a_cancelled_queued_call_leaves_the_queue_at_once(self):
        self.stub.latency_s = 0.5
        client = self.client(1)
        running = asyncio.ensure_future(client.generate_response_async("first"))
        waiting = asyncio.ensure_future(client.generate_response_async("second"))
        await asyncio.sleep(0.05)
        self.assertEqual((client.in_flight, client.queued), (1, 1))
        waiting.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await waiting
        self.assertEqual(client.queued, 0)
        self.assertEqual(llm_api.extract_output_text(await running), "echo: first")
        self.assertEqual(self.stub.labels, ["first"])

    async def test_emergency_mode_sheds_calls_beyond_the_pool(self):
        os.environ["EMERGENCY_MODE"] = "true"
        client = self.client(2)
        results = await self.ask_all(client, 5)
        self.assertEqual([type(r).__name__ for r in results], ["dict", "dict"] + ["LlmOverloadedError"] * 3)
        status, headers, _ = llm_api.llm_http_error(results[4])
        self.assertEqual((status, headers), (503, {"Retry-After": "1"}))
        self.assertEqual(len(self.stub.arrivals), 2)

    async def test_a_changed_pool_size_applies_to_the_next_calls(self):
        client = self.client(1)
        os.environ["LLM_POOL_SIZE"] = "4"
        await self.ask_all(client, 8)
        self.assertEqual(self.stub.peak_in_flight, 4)


class RetryTest(RuntimeTestCase):
    async def test_a_429_pauses_the_pool_for_retry_after_ms_and_the_retry_goes_first(self):
        self.stub.reply_next(429, headers={"retry-after-ms": "400"})
        client = self.client(1)
        results = await self.ask_all(client, 3)
        self.assertEqual([llm_api.extract_output_text(r) for r in results], ["echo: prompt-0", "echo: prompt-1", "echo: prompt-2"])
        first, *later = self.stub.arrivals
        self.assertEqual((first.label, first.status), ("prompt-0", 429))
        self.assertEqual([a.label for a in later], ["prompt-0", "prompt-1", "prompt-2"], "the retry waits at the head of the queue")
        self.assertTrue(all(a.at - first.at >= 0.4 for a in later), "nobody went upstream during the pause")
        metrics = client.get_metrics()
        self.assertEqual((metrics["retriesTotal"], metrics["rateLimitedTotal"]), (1, 1))

    async def test_a_retry_after_a_server_error_holds_no_slot_while_it_sleeps(self):
        self.stub.reply_next(500)
        client = self.client(1)
        results = await self.ask_all(client, 2)
        self.assertEqual([llm_api.extract_output_text(r) for r in results], ["echo: prompt-0", "echo: prompt-1"])
        self.assertEqual([(a.label, a.status) for a in self.stub.arrivals], [("prompt-0", 500), ("prompt-1", 200), ("prompt-0", 200)])

    async def test_honours_retry_after_in_seconds(self):
        self.stub.reply_next(429, headers={"retry-after": "1"})
        client = self.client(1)
        await self.ask_all(client, 1)
        first, retry = self.stub.arrivals
        self.assertGreaterEqual(retry.at - first.at, 1.0)

    async def test_retries_server_errors_until_one_succeeds(self):
        self.stub.reply_next(500)
        self.stub.reply_next(503)
        client = self.client(1)
        (result,) = await self.ask_all(client, 1)
        self.assertEqual(llm_api.extract_output_text(result), "echo: prompt-0")
        self.assertEqual([a.status for a in self.stub.arrivals], [500, 503, 200])
        self.assertEqual(client.get_metrics()["retriesTotal"], 2)

    async def test_never_retries_insufficient_quota(self):
        quota = {"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": "insufficient_quota"}}
        self.stub.reply_next(429, body=quota, headers={"retry-after-ms": "10"})
        client = self.client(1)
        (result,) = await self.ask_all(client, 1)
        self.assertIsInstance(result, httpx.HTTPStatusError, "the upstream's own error, as the SDK would raise it")
        self.assertEqual(result.response.status_code, 429)
        self.assertEqual(len(self.stub.arrivals), 1)
        self.assertEqual(client.get_metrics()["errorsByType"]["other"], 1)
        self.assertIsNone(llm_api.llm_http_error(result))

    async def test_rides_out_429s_beyond_the_upstream_concurrency_limit(self):
        self.stub.concurrency_limit = 2
        client = self.client(4, max_retries=20)
        results = await self.ask_all(client, 8)
        self.assertEqual([llm_api.extract_output_text(r) for r in results], [f"echo: prompt-{i}" for i in range(8)])
        metrics = client.get_metrics()
        self.assertGreater(metrics["rateLimitedTotal"], 0)
        self.assertEqual(metrics["retriesTotal"], metrics["rateLimitedTotal"])
        self.assertEqual(metrics["errorsTotal"], 0)

    async def test_retries_connection_errors_then_gives_a_retryable_error(self):
        os.environ["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"  # discard port: nothing listens
        client = self.client(1, max_retries=2)
        (result,) = await self.ask_all(client, 1)
        self.assertIsInstance(result, llm_api.LlmUpstreamError)
        self.assertIsInstance(result.__cause__, httpx.ConnectError)
        self.assertEqual((result.code, result.status, result.retryable), ("llm_upstream", None, True))
        self.assertEqual(llm_api.llm_http_error(result)[0], 503)
        self.assertEqual(client.get_metrics()["retriesTotal"], 2)


class GatedCallablesTest(RuntimeTestCase):
    stub_options = {"latency_s": 0.1}

    def post_blocking(self, prompt):
        """What a legacy wrapper does: a blocking POST to chat completions."""
        request = urllib.request.Request(
            f"{self.stub.base_url}/chat/completions",
            data=json.dumps({"model": "m", "messages": [{"role": "user", "content": prompt}]}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request) as reply:
            return json.load(reply)["choices"][0]["message"]["content"]

    async def test_run_gates_an_async_callable_and_passes_its_arguments(self):
        client = self.client(2)
        async with httpx.AsyncClient(base_url=self.stub.base_url) as http:

            async def complete(prompt, *, model):
                reply = await http.post("/chat/completions", json={"model": model, "messages": [{"role": "user", "content": prompt}]})
                reply.raise_for_status()
                return reply.json()

            results = await asyncio.gather(*(client.run(complete, f"p{i}", model="m", key=f"user-{i}") for i in range(6)))
        self.assertEqual([llm_api.extract_output_text(r) for r in results], [f"echo: p{i}" for i in range(6)])
        self.assertEqual(self.stub.peak_in_flight, 2)

    async def test_run_gives_the_slot_back_when_the_callable_is_not_async(self):
        client = self.client(1)
        with self.assertRaises(TypeError):
            await client.run(len, "not awaitable")
        self.assertEqual(client.in_flight, 0)
        self.assertEqual(client.get_metrics()["errorsByType"]["other"], 1)

    async def test_run_retries_the_callables_retryable_http_errors(self):
        self.stub.reply_next(503)
        client = self.client(1)
        async with httpx.AsyncClient(base_url=self.stub.base_url) as http:

            async def complete():
                reply = await http.post("/responses", json={"model": "m", "input": "hello"})
                reply.raise_for_status()
                return reply.json()

            result = await client.run(complete)
        self.assertEqual(llm_api.extract_output_text(result), "echo: hello")
        self.assertEqual(client.get_metrics()["retriesTotal"], 1)

    async def test_run_sync_gates_a_blocking_call_without_blocking_the_event_loop(self):
        client = self.client(2)
        ticks = 0

        async def tick():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.ensure_future(tick())
        replies = await asyncio.gather(*(client.run_sync(self.post_blocking, f"p{i}") for i in range(6)))
        ticker.cancel()
        self.assertEqual(replies, [f"echo: p{i}" for i in range(6)])
        self.assertEqual(self.stub.peak_in_flight, 2)
        self.assertGreater(ticks, 5, "the loop kept running while the threads waited on the upstream")

    async def test_run_sync_holds_the_slot_until_a_timed_out_thread_returns(self):
        self.stub.latency_s = 0.6
        client = self.client(1)
        os.environ["LLM_TIMEOUT_MS"] = "200"
        with self.assertRaises(llm_api.LlmTimeoutError):
            await client.run_sync(self.post_blocking, "slow")
        self.assertEqual(client.in_flight, 1, "the thread is still in its upstream call")
        del os.environ["LLM_TIMEOUT_MS"]
        self.assertEqual(await client.run_sync(self.post_blocking, "next"), "echo: next")
        self.assertEqual(self.stub.peak_in_flight, 1)


class ResponseTextTest(RuntimeTestCase):
    def test_extracts_text_from_every_reply_shape(self):
        responses = {
            "output": [
                {"type": "reasoning", "content": None},
                {"type": "message", "content": [{"type": "output_text", "text": "Hel"}, {"type": "output_text", "text": "lo"}]},
            ]
        }
        chat = {"choices": [{"message": {"role": "assistant", "content": "Hi"}}]}
        cases = [
            (responses, "Hello"),
            (types.SimpleNamespace(output_text="sdk text", output=[]), "sdk text"),
            (chat, "Hi"),
            (types.SimpleNamespace(choices=[types.SimpleNamespace(message=types.SimpleNamespace(content="object"))]), "object"),
            ({"data": chat}, "Hi"),
            ({"choices": [{"text": "completion"}]}, "completion"),
            ({"choices": [{"message": {"content": None}}]}, ""),
            ("plain", "plain"),
            (None, ""),
            ({"unknown": 1}, ""),
        ]
        for response, text in cases:
            with self.subTest(response=response):
                self.assertEqual(llm_api.extract_output_text(response), text)

    async def test_calls_chat_completions_when_asked(self):
        client = self.client(1, api="chat", model="gpt-test")
        reply = await client.generate_response_async([{"role": "user", "content": "via chat"}])
        self.assertEqual(reply["object"], "chat.completion")
        self.assertEqual(llm_api.extract_output_text(reply), "echo: via chat")


class FlagsAndCanaryTest(RuntimeTestCase):
    # Published FNV-1a 32-bit values (FNV test suite), taken modulo 10000.
    KNOWN_BUCKETS = {"": 0x811C9DC5 % 10000, "a": 0xE40C292C % 10000, "foobar": 0xBF9CF968 % 10000}

    def test_canary_bucket_is_fnv1a_over_utf8_modulo_10000(self):
        for key, bucket in self.KNOWN_BUCKETS.items():
            self.assertEqual(llm_api.canary_bucket(key), bucket, key)
        self.assertEqual(llm_api.canary_bucket(42), llm_api.canary_bucket("42"))
        self.assertEqual(llm_api.canary_bucket(42.0), llm_api.canary_bucket("42"))
        self.assertEqual(llm_api.canary_bucket(True), llm_api.canary_bucket("true"))
        self.assertEqual(llm_api.canary_bucket(None), llm_api.canary_bucket(""), "a missing key hashes as the empty string")

    def test_canary_bucket_matches_the_typescript_runtime(self):
        vectors = json.loads((REPO_ROOT / "fixtures" / "canary-vectors.json").read_text(encoding="utf-8"))["vectors"]
        self.assertGreater(len(vectors), 10)
        for vector in vectors:
            with self.subTest(key=vector["key"]):
                self.assertEqual(llm_api.canary_bucket(vector["key"]), vector["bucket"])
                for percent, expected in (vector.get("inCanary") or {}).items():
                    self.assertEqual(llm_api.is_in_canary(vector["key"], float(percent)), expected, percent)

    def test_canary_is_stable_per_user_and_close_to_the_percentage(self):
        keys = [f"user-{i}" for i in range(10_000)]
        for percent in (1, 10, 25, 50, 90):
            chosen = [llm_api.is_in_canary(key, percent) for key in keys]
            self.assertEqual(chosen, [llm_api.is_in_canary(key, percent) for key in keys])
            self.assertAlmostEqual(100 * sum(chosen) / len(keys), percent, delta=2, msg=f"{percent}%")
        self.assertTrue(all(llm_api.is_in_canary(key, 100) for key in keys))
        self.assertFalse(any(llm_api.is_in_canary(key, 0) for key in keys))

    def test_flags_flip_the_path_without_a_restart(self):
        self.assertFalse(llm_api.use_new_llm_path(key="u1"), "no client yet")
        llm_api.get_async_llm_client(pool_size=2)
        steps = [
            ({}, True),
            ({"FORCE_LEGACY_LLM": "true"}, False),
            ({"FORCE_LEGACY_LLM": "0"}, True),
            ({"DISABLE_POOL": "yes"}, False),
            ({"DISABLE_POOL": "off"}, True),
            ({"LLM_CANARY_PERCENT": "0"}, False),
            ({"LLM_CANARY_PERCENT": "100"}, True),
        ]
        for env, expected in steps:
            os.environ.update(env)
            llm_api.reload_llm_switches()
            with self.subTest(env=env):
                self.assertIs(llm_api.use_new_llm_path(key="u1"), expected)
        self.assertEqual(llm_api.get_metrics()["paths"], {"new": 4, "legacy": 4})

    def test_a_flip_is_seen_within_the_refresh_period_without_a_reload(self):
        llm_api.get_async_llm_client(pool_size=2)
        self.assertTrue(llm_api.use_new_llm_path(key="u1"))
        os.environ["FORCE_LEGACY_LLM"] = "true"
        self.assertTrue(llm_api.use_new_llm_path(key="u1"), "the last reading stands until the period ends")
        read_at, values = llm_api._switches
        llm_api._switches = (read_at - llm_api.SWITCH_REFRESH_S, values)  # the period has passed
        self.assertFalse(llm_api.use_new_llm_path(key="u1"))

    def test_calls_with_no_user_key_are_drawn_at_random_so_the_canary_holds_its_share(self):
        llm_api.get_async_llm_client(pool_size=2, canary_percent=30)
        chosen = sum(llm_api.use_new_llm_path(key=None) for _ in range(10_000))
        self.assertAlmostEqual(chosen / 100, 30, delta=2)
        os.environ["LLM_CANARY_PERCENT"] = "0"
        llm_api.reload_llm_switches()
        self.assertFalse(any(llm_api.use_new_llm_path(key="") for _ in range(100)))

    def test_canary_percent_given_in_code_picks_the_same_users(self):
        llm_api.get_async_llm_client(pool_size=2, canary_percent=30)
        keys = [f"user-{i}" for i in range(500)]
        self.assertEqual([llm_api.use_new_llm_path(key=k) for k in keys], [llm_api.is_in_canary(k, 30) for k in keys])


class ProcessClientTest(RuntimeTestCase):
    def test_the_first_calls_settings_win_and_a_different_one_warns_once(self):
        first = llm_api.get_async_llm_client(pool_size=3, canary_percent=50)
        self.assertIs(llm_api.get_async_llm_client(), first)
        self.assertIs(llm_api.get_async_llm_client(pool_size=3), first)
        with self.assertLogs("llm_api", "WARNING") as logs:
            self.assertIs(llm_api.get_async_llm_client(pool_size=7), first)
            llm_api.get_async_llm_client(pool_size=8)
        self.assertEqual(len(logs.records), 1)
        self.assertIn("pool_size", logs.output[0])
        self.assertEqual((first.pool_size, first.canary_percent), (3, 50))

    def test_the_environment_overrides_the_settings_given_in_code(self):
        client = llm_api.get_async_llm_client(pool_size=3, canary_percent=50, max_queue=7, timeout_s=9)
        os.environ.update(LLM_POOL_SIZE="12", LLM_CANARY_PERCENT="5", LLM_MAX_QUEUE="40", LLM_TIMEOUT_MS="1500")
        llm_api.reload_llm_switches()
        self.assertEqual((client.pool_size, client.canary_percent, client.max_queue, client.timeout_s), (12, 5, 40, 1.5))
        os.environ["LLM_POOL_SIZE"] = "lots"
        with self.assertLogs("llm_api", "WARNING"):
            self.assertEqual(client.pool_size, 3)


class MetricsTest(RuntimeTestCase):
    async def test_metrics_carry_the_spec_keys_and_count_calls(self):
        client = llm_api.get_async_llm_client(pool_size=2)
        self.addAsyncCleanup(client.drain, 10)
        self.stub.reply_next(400, body={"error": {"message": "bad", "code": "invalid_request"}})
        results = await self.ask_all(client, 4)
        # Two calls are sent at once, so either may be the one the stub answers with the 400.
        failed = [result for result in results if isinstance(result, BaseException)]
        self.assertEqual(len(failed), 1)
        self.assertIsInstance(failed[0], httpx.HTTPStatusError)
        llm_api.use_new_llm_path(key="u")
        metrics = llm_api.get_metrics()
        self.assertEqual(list(metrics), METRICS_KEYS)
        self.assertEqual(list(metrics["latencyMs"]), ["avg", "p50", "p95", "p99"])
        self.assertEqual(
            {k: metrics[k] for k in METRICS_KEYS if k not in ("rps", "latencyMs")},
            {
                "poolSize": 2,
                "poolMode": "fixed",
                "inFlight": 0,
                "queued": 0,
                "maxQueue": 1000,
                "requestsTotal": 4,
                "errorsTotal": 1,
                "errorRate": 0.25,
                "rateLimitedTotal": 0,
                "retriesTotal": 0,
                "errorsByType": {"queue_full": 0, "timeout": 0, "rate_limited": 0, "overloaded": 0, "draining": 0, "aborted": 0, "upstream": 0, "other": 1},
                "paths": {"new": 1, "legacy": 0},
                "utilisation": 0,
                "windowSeconds": 60,
                "pauseRemainingMs": 0,
                "emergencyMode": False,
                "draining": False,
            },
        )
        self.assertGreater(metrics["latencyMs"]["p99"], 0)
        self.assertGreater(metrics["rps"], 0)

    async def test_metrics_never_show_prompts_answers_or_keys(self):
        client = llm_api.get_async_llm_client(pool_size=2)
        self.addAsyncCleanup(client.drain, 10)
        await client.generate_response_async("secret-prompt", key="user-secret")
        llm_api.use_new_llm_path(key="user-secret")
        for format, accept in ((None, None), ("prometheus", None)):
            _, _, body = llm_api.metrics_response(format=format, accept=accept)
            for secret in ("secret-prompt", "echo:", "user-secret", "sk-test-secret-key"):
                self.assertNotIn(secret, body)

    async def test_metrics_response_speaks_json_prometheus_and_legacy_mode(self):
        llm_api.use_new_llm_path(key="u")
        # A scrape gets Prometheus text even with no client, so the target does not go down during a rollback.
        self.assertRegex(llm_api.metrics_response(format="prometheus")[2], r"(?m)^llm_gate_enabled 0$")
        status, content_type, body = llm_api.metrics_response()
        self.assertEqual((status, content_type), (200, "application/json; charset=utf-8"))
        self.assertEqual(
            json.loads(body),
            {"status": "legacy_mode", "warning": "no async LLM client was created: every call takes the legacy path", "paths": {"new": 0, "legacy": 1}},
        )

        client = llm_api.get_async_llm_client(pool_size=4)
        self.addAsyncCleanup(client.drain, 10)
        self.assertEqual(json.loads(llm_api.metrics_response()[2])["poolSize"], 4)
        for request in ({"format": "prometheus"}, {"accept": "text/plain"}, {"format": "Prometheus", "accept": "application/json"}):
            with self.subTest(request=request):
                status, content_type, body = llm_api.metrics_response(**request)
                self.assertEqual(content_type, "text/plain; version=0.0.4; charset=utf-8")
                self.assertIn("# TYPE llm_gate_in_flight gauge\nllm_gate_in_flight 0\n", body)
                self.assertIn("llm_gate_pool_size 4\n", body)
                self.assertIn('llm_path_total{path="legacy"} 1\n', body)
                self.assertIn("# TYPE gen_ai_client_operation_duration_seconds histogram\n", body)
                self.assertIn('llm_errors_total{error_type="queue_full"} 0\n', body)
        self.assertEqual(json.loads(llm_api.metrics_response(format="json", accept="text/plain")[2])["poolSize"], 4)

        os.environ["DISABLE_POOL"] = "true"
        self.assertEqual(json.loads(llm_api.metrics_response()[2])["warning"], "DISABLE_POOL is set: every call takes the legacy path")
        self.assertRegex(llm_api.metrics_response(format="prometheus")[2], r"(?m)^llm_gate_enabled 0$")


class DrainTest(RuntimeTestCase):
    stub_options = {"latency_s": 0.3}

    async def test_drain_lets_running_calls_finish_and_turns_queued_and_new_ones_away(self):
        client = llm_api.get_async_llm_client(pool_size=1)
        calls = asyncio.ensure_future(self.ask_all(client, 3))
        await asyncio.sleep(0.05)
        self.assertTrue(await llm_api.drain(10))
        self.assertEqual([type(r).__name__ for r in await calls], ["dict", "LlmDrainingError", "LlmDrainingError"])
        with self.assertRaises(llm_api.LlmDrainingError) as refused:
            await client.generate_response_async("late")
        self.assertEqual(llm_api.llm_http_error(refused.exception)[0], 503)
        self.assertEqual(self.stub.labels, ["prompt-0"])
        self.assertTrue(client.get_metrics()["draining"])

    async def test_drain_reports_calls_that_outlast_its_deadline(self):
        self.stub.latency_s = 1.0
        client = self.client(1)
        call = asyncio.ensure_future(client.generate_response_async("slow"))
        await asyncio.sleep(0.05)
        self.assertFalse(await client.drain(0.1))
        with self.assertRaises(llm_api.LlmDrainingError):
            await call
        self.assertEqual(client.in_flight, 0)


if __name__ == "__main__":
    unittest.main()
