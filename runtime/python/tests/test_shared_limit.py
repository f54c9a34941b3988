"""The shared limit (llm_shared_limit.py) against a real redis-server on loopback: several
clients in one process stand for replicas. Needs Debian's redis-server and python3-redis.

Run from the repository root:

    PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m unittest discover -s runtime/python/tests -p test_shared_limit.py -v
"""

import asyncio
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import redis  # noqa: E402

import llm_api  # noqa: E402
import llm_shared_limit  # noqa: E402
from upstream_stub import UpstreamStub  # noqa: E402

SETTINGS = ("OPENAI_BASE_URL", "OPENAI_API_KEY", "LLM_REDIS_URL", "LLM_GLOBAL_POOL_SIZE", "LLM_REDIS_LEASE_MS",
            "LLM_REDIS_SETTLE_MS", "LLM_REDIS_PREFIX", "LLM_REDIS_FALLBACK_POOL_SIZE")


class RedisServer:
    """redis-server on a free loopback port, empty on every start (no snapshot kept)."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.dir = tempfile.TemporaryDirectory()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.dir.name],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in self.process.stdout:
            if "Ready to accept connections" in line:
                return self
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait()
            self.process.stdout.close()
            self.process = None


async def until(condition, what, limit_s=10):
    give_up_at = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > give_up_at:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.01)


class SharedLimitTest(unittest.IsolatedAsyncioTestCase):
    prefixes = 0

    @classmethod
    def setUpClass(cls):
        cls.server = RedisServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.dir.cleanup()

    def setUp(self):
        saved = {name: os.environ.get(name) for name in SETTINGS}
        self.addCleanup(lambda: [os.environ.pop(n, None) if v is None else os.environ.__setitem__(n, v) for n, v in saved.items()])
        self.stub = UpstreamStub(latency_s=0.06).start()
        self.addCleanup(self.stub.stop)
        SharedLimitTest.prefixes += 1
        self.prefix = f"pytest-{os.getpid()}-{SharedLimitTest.prefixes}"
        os.environ.update({
            "OPENAI_BASE_URL": self.stub.base_url,
            "OPENAI_API_KEY": "sk-test-not-a-secret",
            "LLM_REDIS_URL": self.server.url,
            "LLM_GLOBAL_POOL_SIZE": "4",
            "LLM_REDIS_LEASE_MS": "600",
            "LLM_REDIS_SETTLE_MS": "200",
            "LLM_REDIS_PREFIX": self.prefix,
        })
        self.keys = llm_shared_limit.redis_keys(self.prefix)
        self.inspect = redis.Redis(port=self.server.port, decode_responses=True)

    def replicas(self, count):
        clients = [llm_api.AsyncLlmClient(10) for _ in range(count)]
        for client in clients:
            self.addAsyncCleanup(client.drain, 5)
        return clients

    async def connected(self, clients, replicas=None):
        # A first call starts each client's link to Redis (made lazily, inside the event loop).
        await asyncio.gather(*(client.generate_response_async("hello") for client in clients))
        await until(lambda: all(c.get_metrics()["shared"]["redis"] == "up" for c in clients), "replicas on Redis")
        if replicas:
            await until(lambda: all(c.get_metrics()["shared"]["replicas"] == replicas for c in clients), "replicas counted")

    async def ask(self, clients, per_client):
        calls = [client.generate_response_async(f"c{i}-{n}") for i, client in enumerate(clients) for n in range(per_client)]
        return await asyncio.gather(*calls)

    async def test_every_replica_together_keeps_to_the_global_limit(self):
        clients = self.replicas(3)
        await self.connected(clients, replicas=3)
        self.stub.peak_in_flight = 0
        results = await self.ask(clients, 6)
        self.assertEqual(len(results), 18)
        self.assertLessEqual(self.stub.peak_in_flight, 4)
        await until(lambda: self.inspect.zcard(self.keys["leases"]) == 0, "no lease left")
        text = clients[0].metrics_text()
        self.assertIn("llm_shared_pool_size 4\n", text)
        self.assertIn("llm_shared_redis_up 1\n", text)

    async def test_a_killed_replicas_slots_come_back_when_their_leases_expire(self):
        os.environ["LLM_GLOBAL_POOL_SIZE"] = "2"
        [client] = self.replicas(1)
        await self.connected([client])
        seconds, micros = self.inspect.time()
        expiry = seconds * 1000 + micros // 1000 + 1000
        self.inspect.zadd(self.keys["leases"], {"dead:1": expiry, "dead:2": expiry})  # never renewed
        arrived = len(self.stub.arrivals)
        calls = asyncio.gather(client.generate_response_async("a"), client.generate_response_async("b"))
        # Both wait while the dead replica's leases hold the pool; none reaches the upstream.
        await until(lambda: client.get_metrics()["shared"]["waiting"] == 2, "both calls waiting for a slot")
        self.assertEqual(len(self.stub.arrivals), arrived)
        await calls  # and both are served once the leases expire
        await until(lambda: self.inspect.zcard(self.keys["leases"]) == 0, "no lease left")

    async def test_a_holder_keeps_its_lease_by_renewing_it(self):
        os.environ["LLM_REDIS_LEASE_MS"] = "200"
        [client] = self.replicas(1)
        await self.connected([client])
        self.stub.latency_s = 0.8
        call = asyncio.ensure_future(client.generate_response_async("long"))
        await asyncio.sleep(0.6)  # three lease lifetimes
        self.assertEqual(self.inspect.zcard(self.keys["leases"]), 1)
        await call

    async def test_falls_back_when_redis_goes_away_and_shares_again_when_it_is_back(self):
        clients = self.replicas(2)
        await self.connected(clients, replicas=2)
        self.stub.peak_in_flight = 0
        with self.assertLogs("llm_api", "WARNING") as logs:
            calls = asyncio.gather(*(client.generate_response_async(f"x{i}") for client in clients for i in range(8)))
            await asyncio.sleep(0.03)
            self.server.stop()
            results = await calls  # no call fails
            self.assertEqual(len(results), 16)
            self.assertLessEqual(self.stub.peak_in_flight, 4)
            snapshots = [client.get_metrics()["shared"] for client in clients]
            self.assertEqual([(s["redis"], s["fallbackPoolSize"], s["fallbacks"]) for s in snapshots], [("down", 2, 1)] * 2)
            self.assertIn("llm_shared_redis_up 0\n", clients[0].metrics_text())

            # Redis comes back empty while calls run: they are registered again before new ones start.
            self.stub.peak_in_flight = 0
            self.stub.latency_s = 0.4
            held = asyncio.gather(*(client.generate_response_async("held") for client in clients))
            await asyncio.sleep(0.05)
            self.server.start()
            await until(lambda: all(c.get_metrics()["shared"]["redis"] == "up" for c in clients), "replicas back on Redis", 5)
            self.stub.latency_s = 0.03
            await asyncio.gather(held, self.ask(clients, 6))
            self.assertLessEqual(self.stub.peak_in_flight, 4)
        unreachable = [line for line in logs.output if "Redis unreachable" in line]
        back = [line for line in logs.output if "Redis is back" in line]
        self.assertEqual((len(unreachable), len(back)), (2, 2))  # once per replica
        await until(lambda: self.inspect.zcard(self.keys["leases"]) == 0, "no lease left")


if __name__ == "__main__":
    unittest.main()
