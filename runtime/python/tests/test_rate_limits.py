"""The runtime under real rate limits: the pause after a 429 (and, below, the adaptive limit).

Run from the repository root:

    PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m unittest discover -s runtime/python/tests -p test_rate_limits.py -v
"""

import asyncio
import os
import pathlib
import shutil
import subprocess
import sys
import unittest
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import llm_api  # noqa: E402
from test_llm_api import RuntimeTestCase  # noqa: E402

AN_HOUR_MS = "3600000"


class PauseTest(RuntimeTestCase):
    stub_options = {"latency_s": 0.05}

    async def test_an_hour_long_retry_after_pauses_at_most_60_s_and_calls_it_outlasts_fail_at_once(self):
        self.stub.reply_next(429, headers={"retry-after-ms": AN_HOUR_MS})
        client = self.client(2, timeout_s=5.0)
        first, later = await self.ask_all(client, 1, "meets the 429") + await self.ask_all(client, 1, "during the pause")
        self.assertIsInstance(first, llm_api.LlmRateLimitedError)
        self.assertTrue(59_000 < first.retry_after_ms <= 60_000, first.retry_after_ms)
        self.assertIsInstance(later, llm_api.LlmRateLimitedError)
        status, headers, body = llm_api.llm_http_error(later)
        self.assertEqual(status, 503)
        self.assertIn(headers["Retry-After"], ("59", "60"))
        self.assertEqual(body["error"]["code"], "llm_rate_limited")
        metrics = client.get_metrics()
        self.assertTrue(58_000 < metrics["pauseRemainingMs"] <= 60_000, metrics["pauseRemainingMs"])
        self.assertEqual((metrics["inFlight"], metrics["queued"], metrics["rateLimitedTotal"]), (0, 0, 1))
        self.assertEqual(metrics["errorsByType"]["rate_limited"], 2)
        self.assertRegex(client.metrics_text(), r"(?m)^llm_gate_pause_remaining_seconds (59|60)(\.\d+)?$")
        self.assertEqual(len(self.stub.arrivals), 1, "the later call never reached the upstream")

    async def test_queued_calls_fail_at_once_when_a_pause_starts_that_outlasts_their_deadline(self):
        self.stub.latency_s = 0.3
        self.stub.reply_next(429, headers={"retry-after-ms": AN_HOUR_MS})
        client = self.client(1, timeout_s=5.0, max_retry_after_ms=30_000)
        results = await self.ask_all(client, 3)
        self.assertEqual([type(r).__name__ for r in results], ["LlmRateLimitedError"] * 3)
        self.assertEqual(len(self.stub.arrivals), 1)
        self.assertEqual((client.in_flight, client.queued), (0, 0))

    async def test_serves_calls_again_as_soon_as_the_pause_ends(self):
        self.stub.reply_next(429, headers={"retry-after-ms": AN_HOUR_MS})
        # A pause of 1.5 s outlasts a deadline of 1 s (long enough for a loaded machine's first call).
        os.environ["LLM_MAX_RETRY_AFTER_MS"] = "1500"
        client = self.client(2, timeout_s=1.0)
        (first,) = await self.ask_all(client, 1, "meets the 429")
        (during,) = await self.ask_all(client, 1, "during the pause")
        self.assertIsInstance(first, llm_api.LlmRateLimitedError)
        self.assertIsInstance(during, llm_api.LlmRateLimitedError)
        while client.get_metrics()["pauseRemainingMs"] > 0:
            await asyncio.sleep(0.01)
        (after,) = await self.ask_all(client, 1, "after the pause")
        self.assertEqual(llm_api.extract_output_text(after), "echo: after the pause-0")
        self.assertEqual([(a.label, a.status) for a in self.stub.arrivals], [("meets the 429-0", 429), ("after the pause-0", 200)])


async def drive(client, callers, done):
    """``callers`` users, each calling one after another until ``done()``; the number that failed."""
    failed = 0

    async def user(number):
        nonlocal failed
        turn = 0
        while not done():
            try:
                await client.generate_response_async(f"user {number} turn {turn}")
            except Exception:  # counted: the test asserts none
                failed += 1
            turn += 1

    await asyncio.gather(*(user(number) for number in range(callers)))
    return failed


async def until(condition, what, limit_s=20.0):
    """Waits for an event (not a speed check)."""
    give_up = asyncio.get_running_loop().time() + limit_s
    while not condition():
        if asyncio.get_running_loop().time() > give_up:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.005)


class AdaptiveLimitTest(RuntimeTestCase):
    stub_options = {"latency_s": 0.1, "concurrency_limit": 2, "limit_retry_after_ms": 5}

    async def test_settles_at_the_upstreams_capacity_and_rises_again_after_it_rises(self):
        os.environ["LLM_POOL_SIZE"] = "auto"
        os.environ["LLM_POOL_MAX"] = "12"
        client = self.client(4, max_retries=10)
        self.assertEqual((client.get_metrics()["poolMode"], client.pool_size), ("auto", 1))
        done = [False]
        driving = asyncio.ensure_future(drive(client, 12, lambda: done[0]))
        try:
            await until(lambda: sum(a.status == 200 for a in self.stub.arrivals) >= 30, "30 answers at capacity 2")
            self.assertLess(client.pool_size, 6, "near capacity 2 (a probe may be one or two above it)")
            self.stub.concurrency_limit = 8
            await until(lambda: client.pool_size >= 7, "the limit to rise to the new capacity")
        finally:
            done[0] = True
        self.assertEqual(await driving, 0)

    async def test_takes_the_capacity_from_the_rate_limit_headers_and_never_meets_a_429(self):
        self.stub.concurrency_limit = 5
        self.stub.rate_limit_headers = True
        client = self.client("auto")
        stop = [False]
        driving = asyncio.ensure_future(drive(client, 12, lambda: stop[0]))
        try:
            await until(lambda: len(self.stub.arrivals) >= 100, "100 calls")
        finally:
            stop[0] = True
        self.assertEqual(await driving, 0)
        self.assertEqual(client.pool_size, 5)
        self.assertEqual([a.status for a in self.stub.arrivals if a.status != 200], [])


class LatencySignalTest(RuntimeTestCase):
    # K = 4 calls worked on at once, 0.5 s each (long beside this process's own delays, since the
    # stub shares its interpreter, even on a CI machine busy with other tests: at 0.25 s a loaded
    # run averaged 10); the rest wait inside the stub, none is refused.
    stub_options = {"latency_s": 0.5, "serving_limit": 4}

    async def test_settles_near_the_capacity_of_an_upstream_that_queues_from_latency_alone(self):
        client = self.client("auto", pool_max=32)
        stop = [False]
        seen = []
        driving = asyncio.ensure_future(drive(client, 16, lambda: stop[0]))
        try:
            await until(lambda: len(self.stub.arrivals) >= 40, "40 calls")
            while len(self.stub.arrivals) < 90:
                seen.append(client.pool_size)
                await asyncio.sleep(0.02)
        finally:
            stop[0] = True
        self.assertEqual(await driving, 0)
        self.assertEqual([a.status for a in self.stub.arrivals if a.status != 200], [])
        # Without the latency signal the limit would climb to the 16 callers; with it, it stays
        # around K (within 2K: this interpreter's own delays, shared with the stub, blur the rounds).
        average = sum(seen) / len(seen)
        self.assertGreaterEqual(average, 2.5)
        self.assertLessEqual(average, 8)
        self.assertLessEqual(seen[-1], 8)


class AimdLimitTest(RuntimeTestCase):
    async def test_grows_in_slow_start_and_backs_off_once_per_round_on_drops(self):
        limit = llm_api.AimdLimit(1, 50)
        sent = time.monotonic() - 0.01
        for _ in range(5):
            limit.on_sample(sent, 0.01, limit.current, False, None)
        self.assertEqual(limit.current, 6)
        limit.on_sample(time.monotonic(), 0.01, 6, True, None)
        self.assertEqual(limit.current, 5)
        limit.on_sample(sent, 0.01, 5, True, None)  # sent before that decrease: the same congestion
        self.assertEqual(limit.current, 5)


PROMTOOL = shutil.which("promtool")


@unittest.skipIf(PROMTOOL is None and not os.environ.get("CI"), "promtool missing (apt-get install prometheus)")
class PrometheusTextTest(RuntimeTestCase):
    """GET /metrics/llm in Prometheus text in every mode, checked by Prometheus's own promtool."""

    def promtool(self, text):
        run = subprocess.run([PROMTOOL or "promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        return run.returncode, run.stdout + run.stderr

    async def scrape(self):
        status, content_type, body = llm_api.metrics_response(format="prometheus")
        self.assertEqual(status, 200)
        self.assertTrue(content_type.startswith("text/plain; version=0.0.4"))
        return body

    async def test_every_mode_passes_promtool(self):
        for mode, env, expected in [
            ("fixed", {}, r"(?m)^llm_gate_enabled 1$"),
            ("auto", {"LLM_POOL_SIZE": "auto"}, r"(?m)^llm_gate_pool_size \d+$"),
            ("EMERGENCY_MODE", {"EMERGENCY_MODE": "true"}, r"(?m)^llm_gate_emergency_mode 1$"),
            ("DISABLE_POOL", {"DISABLE_POOL": "true"}, r"(?m)^llm_gate_enabled 0$"),
        ]:
            with self.subTest(mode):
                for name in ("LLM_POOL_SIZE", "EMERGENCY_MODE", "DISABLE_POOL"):
                    os.environ.pop(name, None)
                os.environ.update(env)
                llm_api._client = None
                client = llm_api.get_async_llm_client(pool_size=2)
                self.addAsyncCleanup(client.drain, 10)
                await client.generate_response_async("hello")
                self.stub.reply_next(400)
                with self.assertRaises(Exception):
                    await client.generate_response_async("bad")
                text = await self.scrape()
                self.assertRegex(text, expected)
                # One upstream attempt per series, with OpenTelemetry's GenAI attributes and error.type.
                otel = 'gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o-mini"'
                self.assertIn(f'gen_ai_client_operation_duration_seconds_count{{{otel},error_type=""}} 1\n', text)
                self.assertIn(f'gen_ai_client_operation_duration_seconds_count{{{otel},error_type="400"}} 1\n', text)
                self.assertEqual(self.promtool(text), (0, ""))

    async def test_with_no_client_yet_it_passes_promtool(self):
        llm_api.use_new_llm_path(key="user-1")
        text = await self.scrape()
        self.assertRegex(text, r"(?m)^llm_gate_enabled 0$")
        self.assertRegex(text, r'(?m)^llm_path_total\{path="legacy"\} 1$')
        self.assertEqual(self.promtool(text), (0, ""))

    async def test_the_route_can_be_turned_off_or_put_behind_a_token(self):
        llm_api.get_async_llm_client(pool_size=2)
        self.assertEqual(llm_api.metrics_response()[0], 200)
        os.environ["LLM_METRICS_TOKEN"] = "metrics-token-for-tests"
        self.addCleanup(os.environ.pop, "LLM_METRICS_TOKEN", None)
        self.assertEqual(llm_api.metrics_response()[0], 401)
        self.assertEqual(llm_api.metrics_response(authorization="Bearer wrong")[0], 401)
        self.assertEqual(llm_api.metrics_response(authorization="Bearer metrics-token-for-tests")[0], 200)
        # As the routes apply writes pass it: the request's headers, in any case.
        self.assertEqual(llm_api.metrics_response(headers={"Authorization": "Bearer metrics-token-for-tests"})[0], 200)
        self.assertEqual(llm_api.metrics_response(headers={"authorization": "Bearer wrong", "accept": "text/plain"})[0], 401)
        os.environ["LLM_METRICS"] = "off"
        self.addCleanup(os.environ.pop, "LLM_METRICS", None)
        self.assertEqual(llm_api.metrics_response(authorization="Bearer metrics-token-for-tests")[0], 404)


if __name__ == "__main__":
    unittest.main()
