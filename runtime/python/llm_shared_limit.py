"""One LLM limit for every replica, on Redis: the Python twin of the TypeScript runtime's
shared-limit.ts, speaking the same protocol (same keys, same Lua scripts, byte for byte), so
Python and Node replicas can share one limit.

Loaded by llm_api.py only when LLM_REDIS_URL is set; needs ``redis`` (redis-py >= 4.2, for
``redis.asyncio``). Without it, or while Redis is unreachable, the process runs on a local pool
of ``fallback_pool_size()`` slots, says so once in the log and in its metrics, and fails no call.

Slots are leases that the holder renews every TTL/3, so a killed replica's slots come back
within one TTL of its last renewal. Waiting calls of every replica stand in one FIFO queue in
Redis. Lua rather than a semaphore library: each decision must be one atomic step on the server,
and the Node runtime must take part in the very same protocol.
"""

import asyncio
import logging
import os
import secrets
import time

try:
    import redis.asyncio as aioredis
except ImportError:  # redis-py missing or older than 4.2
    aioredis = None

logger = logging.getLogger("llm_api")

_TICK_S = 0.1
# A waiting call's place in the global queue lives this long unless its replica asks again (it does every tick or sooner).
_TICKET_MS = 500

ACQUIRE_LUA = """local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local ticketTtl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local dead = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, id in ipairs(dead) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZREM', KEYS[2], id)
end
local paused = tonumber(redis.call('GET', KEYS[5]) or '0') - now
if paused < 0 then paused = 0 end
local result = { paused }
local free = limit - redis.call('ZCARD', KEYS[1])
for i = 4, #ARGV do
  local id = ARGV[i]
  local rank = redis.call('ZRANK', KEYS[2], id)
  if rank == false then rank = redis.call('ZCARD', KEYS[2]) end
  if redis.call('ZSCORE', KEYS[1], id) then
    result[#result + 1] = id
  elseif paused == 0 and rank < free then
    redis.call('ZREM', KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
    redis.call('ZADD', KEYS[1], now + ttl, id)
    free = free - 1
    result[#result + 1] = id
  else
    if redis.call('ZSCORE', KEYS[2], id) == false then
      redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), id)
    end
    redis.call('ZADD', KEYS[3], now + ticketTtl, id)
  end
end
return result
"""

RELEASE_LUA = """for i = 4, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
  redis.call('ZREM', KEYS[3], ARGV[i])
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if tonumber(redis.call('GET', KEYS[4]) or '0') > now then return 0 end
local free = tonumber(ARGV[2]) - redis.call('ZCARD', KEYS[1])
while free > 0 do
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not head then break end
  redis.call('ZREM', KEYS[2], head)
  local expiry = redis.call('ZSCORE', KEYS[3], head)
  redis.call('ZREM', KEYS[3], head)
  if expiry and tonumber(expiry) > now then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), head)
    redis.call('PUBLISH', ARGV[1], 'grant:' .. head)
    free = free - 1
  end
end
if free > 0 then redis.call('PUBLISH', ARGV[1], 'free') end
return free
"""

RENEW_LUA = """local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 4, #ARGV do redis.call('ZADD', KEYS[1], now + ttl, ARGV[i]) end
redis.call('ZADD', KEYS[2], now + ttl, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local since = tonumber(ARGV[3]) + ttl
return { redis.call('ZCARD', KEYS[2]), redis.call('ZCOUNT', KEYS[2], '(' .. since, '+inf'), now }
"""

PAUSE_LUA = """local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + math.ceil(tonumber(ARGV[1]))
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs <= current then return current - now end
redis.call('SET', KEYS[1], untilMs, 'PX', untilMs - now + 1000)
redis.call('PUBLISH', ARGV[2], 'pause:' .. (untilMs - now))
return untilMs - now
"""

def redis_keys(prefix):
    """The keys of one limit, under one hash tag so a Redis Cluster keeps them on one slot."""
    base = "{" + prefix + "}"
    return {name: f"{base}:{name}" for name in ("leases", "queue", "tickets", "seq", "pause", "replicas")} | {
        "channel": f"{base}:events"
    }


def _env_int(name, minimum):
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw)
    except ValueError:
        return None
    return int(value) if value >= minimum else None


def settings_from_env(pool_size):
    """The shared limit LLM_REDIS_URL asks for, or None when it is unset (same variables as Node)."""
    url = os.environ.get("LLM_REDIS_URL", "").strip()
    if not url:
        return None
    lease_ms = _env_int("LLM_REDIS_LEASE_MS", 100)
    settle_ms = _env_int("LLM_REDIS_SETTLE_MS", 0)
    return {
        "url": url,
        "limit": _env_int("LLM_GLOBAL_POOL_SIZE", 1) or pool_size,
        "lease_ms": lease_ms if lease_ms is not None else 10_000,
        "prefix": os.environ.get("LLM_REDIS_PREFIX", "").strip() or "llm-runtime",
        "fallback_pool_size": _env_int("LLM_REDIS_FALLBACK_POOL_SIZE", 1),
        "settle_ms": settle_ms if settle_ms is not None else 5000,
    }


class _Waiter:
    __slots__ = ("id", "future")

    def __init__(self, waiter_id, future):
        self.id = waiter_id
        self.future = future


class SharedLimit:
    """Slots of the global pool for this process's calls; see the module's docstring."""

    def __init__(self, settings, on_pause=lambda seconds: None):
        self.settings = settings
        self.on_pause = on_pause
        self.keys = redis_keys(settings["prefix"])
        self.held = {}  # lease id -> monotonic time it was granted, oldest first
        self.granted = set()  # the held ids Redis granted (the others came from the local pool)
        self.waiters = []
        self.mode = "fallback"
        self.fallbacks = 0
        self.replicas = 0
        self._replica_id = f"{secrets.token_hex(4)}-{os.getpid()}"
        self._next_id = 0
        self._redis = None
        self._tasks = []
        self._ever_connected = False
        self._settled_at = 0.0
        self._back_at = 0  # Redis's clock when this replica came back to it (0 when not settling)
        self._lost_at = 0.0
        self._last_renew = 0.0
        self._hold_s = 0.0
        self._pumping = False
        self._pump_again = False
        self._closed_with = None
        self._stopped = False

    @property
    def waiting(self):
        return len(self.waiters)

    @property
    def redis_up(self):
        return self.mode == "shared"

    def fallback_pool_size(self):
        """The local pool while Redis is away: the setting, else the global limit / live replicas last seen (at least 1)."""
        if self.settings["fallback_pool_size"] is not None:
            return self.settings["fallback_pool_size"]
        return max(1, self.settings["limit"] // self.replicas) if self.replicas else 1

    def _start(self):
        # Started on first use, inside the server's event loop (the client is often made at import time).
        if self._tasks or self._stopped:
            return
        if aioredis is None:
            self.fallbacks += 1
            logger.warning(
                "llm_api: LLM_REDIS_URL is set but the redis package (>= 4.2) is not installed (pip install redis): "
                "using a local pool of %s.", self.fallback_pool_size())
            self._tasks.append(None)
            return
        self._redis = aioredis.Redis.from_url(
            self.settings["url"], decode_responses=True, socket_timeout=1, socket_connect_timeout=1)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._ticker()), loop.create_task(self._listen())]

    async def hold(self, deadline, on_timeout):
        """Wait for a global slot until ``deadline`` (monotonic); True when the call had to wait."""
        self._start()
        if self._closed_with:
            raise self._closed_with()
        waiter = _Waiter(f"{self._replica_id}:{self._next_id}", asyncio.get_running_loop().create_future())
        self._next_id += 1
        self.waiters.append(waiter)
        self._pump()
        if waiter.future.done():
            return False
        try:
            await asyncio.wait_for(asyncio.shield(waiter.future), max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            if self._leave(waiter):
                return True
            raise on_timeout() from None
        except BaseException:
            if self._leave(waiter):
                self.release()
            raise
        return True

    def _leave(self, waiter):
        """Take a waiter out; True when its slot was granted just as it gave up (it holds it)."""
        if waiter.future.done() and not waiter.future.cancelled():
            waiter.future.result()
            return True
        waiter.future.cancel()
        if waiter in self.waiters:
            self.waiters.remove(waiter)
        self._forget([waiter.id])
        return False

    def release(self):
        """Give back one slot of this process (they are interchangeable)."""
        if not self.held:
            return
        lease_id, granted_at = next(iter(self.held.items()))
        del self.held[lease_id]
        self.granted.discard(lease_id)
        held_s = time.monotonic() - granted_at
        self._hold_s = held_s if self._hold_s == 0 else self._hold_s * 0.9 + held_s * 0.1
        self._forget([lease_id])
        if self.mode != "shared":
            self._pump()
        self._stop_if_idle()

    def pause(self, seconds):
        """After a 429 here: every replica pauses for ``seconds``."""
        if self.mode == "shared":
            self._spawn(self._redis.eval(PAUSE_LUA, 1, self.keys["pause"], max(1, round(seconds * 1000)), self.keys["channel"]))

    def close(self, make_error):
        """Fail every waiting call with ``make_error()``; let go of Redis once nothing is held."""
        self._closed_with = make_error
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if not waiter.future.done():
                waiter.future.set_exception(make_error())
                waiter.future.exception()  # read here: its caller may already have gone
        self._forget([waiter.id for waiter in waiters])
        self._stop_if_idle()

    def _stop_if_idle(self):
        if not self._closed_with or self.held or self._stopped:
            return
        self._stopped = True
        for task in self._tasks:
            if task is not None:
                task.cancel()

    async def aclose(self):
        """After close() and the last release: wait for the background tasks and drop the connections."""
        tasks = [task for task in self._tasks if task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._redis is not None:
            redis, self._redis = self._redis, None
            try:
                await redis.close()
                await redis.connection_pool.disconnect()
            except Exception:  # Redis is away: nothing to close cleanly
                pass

    def _spawn(self, coroutine):
        async def run():
            try:
                await coroutine
            except Exception as exc:  # Redis failed the command: run locally until it is back
                self._lost(exc)

        asyncio.get_running_loop().create_task(run())

    def _grant(self, waiter, by_redis=False):
        if waiter.future.done():  # it gave up while the slot was being granted
            if by_redis:
                self._forget([waiter.id])
            return
        self.held[waiter.id] = time.monotonic()
        if by_redis:
            self.granted.add(waiter.id)
        waiter.future.set_result(None)

    def _take(self, lease_id):
        """Redis granted ``lease_id`` (to an ACQUIRE, or straight from a release): hand the slot to
        its waiter. False when nobody here waits for it and it is not held: the lease is to be dropped."""
        if lease_id in self.held:
            return True  # reported twice: by a release's message and an ACQUIRE
        for waiter in self.waiters:
            if waiter.id == lease_id:
                self.waiters.remove(waiter)
                self._grant(waiter, by_redis=True)
                return True  # _grant drops the lease itself if the waiter gave up
        return False  # it left while the slot was being granted

    def _forget(self, ids):
        """Drop ids from Redis (released leases, waiters that left) and wake the other replicas."""
        if self.mode == "fallback" or self._redis is None or not ids:
            return
        keys = self.keys
        self._spawn(self._redis.eval(
            RELEASE_LUA, 4, keys["leases"], keys["queue"], keys["tickets"], keys["pause"],
            keys["channel"], self.settings["limit"], self.settings["lease_ms"], *ids))

    def _local_pool_open(self):
        # Right after Redis is lost, other replicas may still run more than their share of calls
        # Redis let in: wait until ours have ended and 1.5 typical calls have passed, or one TTL.
        since = time.monotonic() - self._lost_at
        return (not self.granted and since >= self._hold_s * 1.5) or since * 1000 >= self.settings["lease_ms"]

    def _pump(self):
        if not self.waiters:
            return
        if self.mode == "fallback":
            if self._local_pool_open():
                while self.waiters and len(self.held) < self.fallback_pool_size():
                    self._grant(self.waiters.pop(0))
            return
        # Settling: slots from Redis, but no more than the local pool, while other replicas may still run unregistered calls.
        room = self.fallback_pool_size() - len(self.held) if self.mode == "settling" else len(self.waiters)
        if room <= 0:
            return
        if self._pumping:
            self._pump_again = True
            return
        self._pumping = True
        asyncio.get_running_loop().create_task(self._acquire([waiter.id for waiter in self.waiters[:room]]))

    async def _acquire(self, ids):
        keys = self.keys
        try:
            reply = await self._redis.eval(
                ACQUIRE_LUA, 5, keys["leases"], keys["queue"], keys["tickets"], keys["seq"], keys["pause"],
                self.settings["limit"], self.settings["lease_ms"], _TICKET_MS, *ids)
            paused_ms, granted = int(reply[0]), reply[1:]
            self._forget([lease_id for lease_id in granted if not self._take(lease_id)])
            if paused_ms > 0:
                asyncio.get_running_loop().call_later(paused_ms / 1000, self._pump)
        except Exception as exc:
            self._lost(exc)
        finally:
            self._pumping = False
            if self._pump_again:
                self._pump_again = False
                self._pump()

    async def _ticker(self):
        while True:
            await asyncio.sleep(_TICK_S)
            # Renew every TTL/3; while Redis is away the same call checks whether it is back, and
            # while settling it watches the other replicas come back.
            every_s = {"shared": self.settings["lease_ms"] / 3000, "settling": _TICK_S}.get(self.mode, 0.25)
            if time.monotonic() - self._last_renew >= every_s:
                await self._renew()
            self._pump()

    async def _renew(self):
        self._last_renew = time.monotonic()
        keys = self.keys
        try:
            alive, renewed_since, now = await self._redis.eval(
                RENEW_LUA, 2, keys["leases"], keys["replicas"], self.settings["lease_ms"], self._replica_id, self._back_at, *self.held)
        except Exception as exc:
            self._lost(exc)
            return
        # After Redis was away, this replica has registered its running calls again; until every
        # replica it knew has renewed since (and so registered its own), or settle_ms has passed
        # (one may have died meanwhile), it takes slots from Redis but never more than its local pool.
        if self.mode == "shared" or not self._ever_connected:
            self.replicas = int(alive)
        if self.mode == "fallback":
            if self._ever_connected:
                self.mode = "settling"
                self._back_at = int(now)
                self._settled_at = time.monotonic() + self.settings["settle_ms"] / 1000
            else:
                self.mode = "shared"
            self._ever_connected = True
        elif self.mode == "settling" and (int(renewed_since) >= self.replicas or time.monotonic() >= self._settled_at):
            self.mode = "shared"
            self._back_at = 0
            logger.warning("llm_api: Redis is back: the LLM limit is shared again (%s slots across replicas).", self.settings["limit"])
        self._pump()

    def _lost(self, exc):
        """Redis failed a command: run on the local pool until it answers again."""
        if self.mode == "fallback" or self._stopped:
            return
        self.mode = "fallback"
        self._lost_at = time.monotonic()
        self.fallbacks += 1
        reason = str(exc).split("\n")[0] or type(exc).__name__
        logger.warning("llm_api: Redis unreachable (%s): using a local pool of %s until it is back.", reason, self.fallback_pool_size())
        self._pump()

    async def _listen(self):
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self.keys["channel"])
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    data = message and message.get("data")
                    if data == "free":
                        self._pump()
                    elif isinstance(data, str) and data.startswith("grant:"):
                        lease_id = data[len("grant:"):]
                        if lease_id.startswith(self._replica_id + ":") and not self._take(lease_id):
                            self._forget([lease_id])
                    elif isinstance(data, str) and data.startswith("pause:"):
                        self.on_pause(int(data[len("pause:"):]) / 1000)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis is away: the ticker notices and reports it
                await asyncio.sleep(0.25)
            finally:
                try:
                    await pubsub.reset()
                except Exception:
                    pass


class SharedGate:
    """The process's gate with the shared limit behind it: a call first takes its place in the
    local gate (pool size, FIFO queue, pause), then a slot of the global pool. Used by
    llm_api.AsyncLlmClient exactly as its local gate."""

    def __init__(self, local, shared, timeout_error):
        self._local = local
        self.shared = shared
        self._timeout_error = timeout_error
        shared.on_pause = local.pause  # another replica's 429 pauses this queue too

    def __getattr__(self, name):
        return getattr(self._local, name)

    @property
    def in_flight(self):
        return len(self.shared.held)

    @property
    def queued(self):
        return self._local.queued + self.shared.waiting

    async def acquire(self, deadline, timeout_s, *, front=False, shed=False):
        waited = await self._local.acquire(deadline, timeout_s, front=front, shed=shed)
        try:
            return await self.shared.hold(deadline, lambda: self._timeout_error(timeout_s)) or waited
        except BaseException:
            self._local.release()
            raise

    def release(self):
        self.shared.release()
        self._local.release()

    def pause(self, seconds):
        self._local.pause(seconds)
        self.shared.pause(seconds)

    def close(self, make_error):
        self._local.close(make_error)
        self.shared.close(make_error)

    async def idle(self):
        await self._local.idle()
        if self.shared._stopped:
            await self.shared.aclose()

    def snapshot(self):
        """The ``shared`` part of get_metrics(), keyed as in the Node runtime."""
        shared = self.shared
        return {
            "limit": shared.settings["limit"],
            "inFlight": len(shared.held),
            "waiting": shared.waiting,
            "redis": "up" if shared.redis_up else "down",
            "fallbackPoolSize": shared.fallback_pool_size(),
            "fallbacks": shared.fallbacks,
            "replicas": shared.replicas,
        }

    def prometheus_blocks(self):
        """(name, type, help, samples) blocks for llm_api's exposition, named as in the Node runtime."""
        shared = self.shared
        gauges = [
            ("llm_shared_pool_size", "Concurrent upstream calls allowed across every replica (LLM_GLOBAL_POOL_SIZE)", shared.settings["limit"]),
            ("llm_shared_in_flight", "Calls of this replica holding a slot of the shared pool", len(shared.held)),
            ("llm_shared_waiting", "Calls of this replica waiting for a slot of the shared pool", shared.waiting),
            ("llm_shared_redis_up", "1 while the shared limit is kept in Redis, 0 while this replica runs on its local fallback pool",
             1 if shared.redis_up else 0),
            ("llm_shared_fallback_pool_size", "Local pool used while Redis is unreachable", shared.fallback_pool_size()),
            ("llm_shared_replicas", "Live replicas last seen in Redis", shared.replicas),
        ]
        blocks = [(name, "gauge", help_text, [f"{name} {value}"]) for name, help_text, value in gauges]
        blocks.append(("llm_shared_fallbacks_total", "counter",
                       "Times this replica fell back to its local pool because Redis was unreachable",
                       [f"llm_shared_fallbacks_total {shared.fallbacks}"]))
        return blocks


def shared_gate(local, pool_size, timeout_error):
    """``local``, or ``local`` with the shared limit behind it when LLM_REDIS_URL is set."""
    settings = settings_from_env(pool_size)
    return SharedGate(local, SharedLimit(settings), timeout_error) if settings else local
