"""The runtime under real rate limits: the pause after a 429 (and, below, the adaptive limit).

Run from the repository root:

    PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m unittest discover -s runtime/python/tests -p test_rate_limits.py -v
"""

import asyncio
import os
import pathlib
import sys

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
        os.environ["LLM_MAX_RETRY_AFTER_MS"] = "300"
        client = self.client(2, timeout_s=0.2)
        (first,) = await self.ask_all(client, 1, "meets the 429")
        (during,) = await self.ask_all(client, 1, "during the pause")
        self.assertIsInstance(first, llm_api.LlmRateLimitedError)
        self.assertIsInstance(during, llm_api.LlmRateLimitedError)
        while client.get_metrics()["pauseRemainingMs"] > 0:
            await asyncio.sleep(0.01)
        (after,) = await self.ask_all(client, 1, "after the pause")
        self.assertEqual(llm_api.extract_output_text(after), "echo: after the pause-0")
        self.assertEqual([(a.label, a.status) for a in self.stub.arrivals], [("meets the 429-0", 429), ("after the pause-0", 200)])


if __name__ == "__main__":
    import unittest

    unittest.main()
