"""One process-wide, semaphore-gated async LLM client for FastAPI backends.

Vendored by llm-migrate next to the migrated app; the Python twin of the TypeScript runtime
(same settings, flags, error codes, metrics keys, Prometheus names and canary buckets).
Standard library only for what migrated code calls (run, run_sync); generate_response_async
uses ``openai.AsyncOpenAI`` when openai is importable, else httpx, imported on first use.
See README.md in this folder.
"""

import asyncio
import contextvars
import bisect
import collections
import email.utils
import hmac
import json
import logging
import math
import os
import random
import re
import threading
import time

try:
    import openai
except ImportError:
    openai = None
if openai is not None and not hasattr(openai, "AsyncOpenAI"):
    openai = None  # openai < 1.0 has no async client; httpx does the job


__all__ = [
    "AsyncLlmClient",
    "LlmError",
    "LlmQueueFullError",
    "LlmTimeoutError",
    "LlmRateLimitedError",
    "LlmOverloadedError",
    "LlmDrainingError",
    "LlmUpstreamError",
    "get_async_llm_client",
    "AimdLimit",
    "FixedLimit",
    "use_new_llm_path",
    "reload_llm_switches",
    "set_llm_request_key",
    "extract_output_text",
    "canary_bucket",
    "is_in_canary",
    "get_metrics",
    "metrics_response",
    "llm_http_error",
    "drain",
]

logger = logging.getLogger("llm_api")

DEFAULTS = {"pool_size": 10, "pool_min": 1, "pool_max": 100, "canary_percent": 100, "max_queue": 1000, "timeout_s": 60.0, "max_retries": 3}
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
JSON_TYPE = "application/json; charset=utf-8"
PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_RETRYABLE_STATUSES = frozenset({408, 409, 429})
_WINDOW_S = 60
_MAX_SAMPLES = 8192
# OpenTelemetry GenAI's advice for gen_ai.client.operation.duration: 10 ms doubling to ~82 s.
_DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
_ERROR_TYPES = ("queue_full", "timeout", "rate_limited", "overloaded", "draining", "aborted", "upstream", "other")
# The longest Retry-After obeyed by default. openai-python ignores a wish of 60 s or more and
# falls back to its backoff; the runtime clamps instead: "an hour" still means "not now", and
# after a minute one call probes again (every caller waits at most this, never the hour).
DEFAULT_MAX_RETRY_AFTER_MS = 60_000


# --- errors -------------------------------------------------------------------------


class LlmError(Exception):
    """Base of the runtime's errors: a stable ``code``, ``retryable`` and ``retry_after_ms``."""

    code = "llm_error"
    retryable = False

    def __init__(self, message, *, retry_after_ms=None):
        super().__init__(message)
        self.retry_after_ms = retry_after_ms


class LlmQueueFullError(LlmError):
    """The bounded queue in front of the pool is full."""

    code = "llm_queue_full"
    retryable = True


class LlmTimeoutError(LlmError):
    """The call's one deadline (queue wait + every attempt + every backoff) passed."""

    code = "llm_timeout"
    retryable = True


class LlmRateLimitedError(LlmError):
    """The upstream asked everyone to wait (a 429's Retry-After) for longer than this call has
    left: it fails at once, and ``retry_after_ms`` says when the pause ends."""

    code = "llm_rate_limited"
    retryable = True

    def __init__(self, retry_after_ms):
        super().__init__(f"LLM upstream is rate limited for another {math.ceil(retry_after_ms)} ms", retry_after_ms=retry_after_ms)


class LlmOverloadedError(LlmError):
    """EMERGENCY_MODE is on and every slot is busy: the call is shed instead of queued."""

    code = "llm_overloaded"
    retryable = True


class LlmDrainingError(LlmError):
    """The client is draining for shutdown and takes no more calls."""

    code = "llm_draining"
    retryable = True

    def __init__(self):
        super().__init__("LLM client is shutting down", retry_after_ms=1000)


class LlmUpstreamError(LlmError):
    """The upstream kept failing with a retryable status after every retry.

    ``status`` is the last HTTP status (None for a connection error); ``__cause__`` the last error.
    """

    code = "llm_upstream"
    retryable = True

    def __init__(self, *, status, attempts, retry_after_ms=None):
        last = f" (last status {status})" if status else ""
        super().__init__(f"LLM upstream failed after {attempts} attempt(s){last}", retry_after_ms=retry_after_ms or 1000)
        self.status = status


def _timeout_error(timeout_s, retry_after_ms=1000):
    return LlmTimeoutError(f"LLM call did not finish within {round(timeout_s * 1000)} ms", retry_after_ms=retry_after_ms)


# --- environment and canary ---------------------------------------------------------


def _flag(name):
    return os.environ.get(name, "").strip().lower() in ("true", "1", "yes", "on")


# The switches an operator flips while the process runs (DISABLE_POOL, FORCE_LEGACY_LLM,
# EMERGENCY_MODE, LLM_CANARY_PERCENT), as the gated call paths see them. Reading os.environ
# costs an encode and a lookup per name, on every call; one reading is used for at most
# SWITCH_REFRESH_S, so a flip takes effect within it, still without a restart.
SWITCH_REFRESH_S = 1.0
_switches = None  # (read at, {name: value}) or None: read on the next call


def _switch(name):
    """A switch's value from a reading at most SWITCH_REFRESH_S old: a bool, or the canary percent (None when unset)."""
    global _switches
    now = time.monotonic()
    reading = _switches
    if reading is None or now - reading[0] >= SWITCH_REFRESH_S:
        reading = _switches = (now, {
            "DISABLE_POOL": _flag("DISABLE_POOL"),
            "FORCE_LEGACY_LLM": _flag("FORCE_LEGACY_LLM"),
            "EMERGENCY_MODE": _flag("EMERGENCY_MODE"),
            "LLM_CANARY_PERCENT": _env_number("LLM_CANARY_PERCENT", 0),
        })
    return reading[1][name]


def reload_llm_switches():
    """Read the switches again on the next call: for code that changes os.environ and wants it to apply at once."""
    global _switches
    _switches = None


_reported_bad_settings = set()


def _env_number(name, minimum):
    """A number >= minimum from the environment, or None when unset or invalid (warned once)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if value >= minimum and math.isfinite(value):
        return value
    if (name, raw) not in _reported_bad_settings:
        _reported_bad_settings.add((name, raw))
        logger.warning("llm_api: ignoring %s=%r (expected a number >= %s)", name, raw, minimum)
    return None


def _key_text(key):
    # Spelled as JavaScript's String() spells it, so both runtimes bucket a user alike.
    if key is None:
        return ""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return str(key)


def canary_bucket(key):
    """0-9999: FNV-1a 32-bit over the UTF-8 bytes of the key, modulo 10000 (None hashes as "")."""
    # Hand-written: it must match the TypeScript runtime bit for bit, and the standard library has no FNV.
    value = 0x811C9DC5
    for byte in _key_text(key).encode("utf-8"):
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value % 10000


def is_in_canary(key, percent):
    """Whether ``key`` is inside a canary of ``percent`` (0-100, fractions allowed)."""
    if not percent > 0:
        return False
    if percent >= 100:
        return True
    return canary_bucket(key) < percent * 100


# --- retry policy -------------------------------------------------------------------
# Duck-typed, so it reads errors of openai (APIStatusError), httpx, requests and urllib alike.

Failure = collections.namedtuple("Failure", "retryable rate_limited status")


def _status_of(exc):
    for status in (
        getattr(exc, "status_code", None),
        getattr(getattr(exc, "response", None), "status_code", None),
        getattr(exc, "code", None) if hasattr(exc, "headers") else None,  # urllib's HTTPError
    ):
        if isinstance(status, int) and not isinstance(status, bool):
            return status
    return None


def _headers_of(exc):
    headers = getattr(getattr(exc, "response", None), "headers", None)
    return headers if headers is not None else getattr(exc, "headers", None)


def _header(exc, name):
    headers = _headers_of(exc)
    try:
        value = headers.get(name) if headers is not None else None
    except AttributeError:
        return None
    return value if isinstance(value, str) else None


def _body_of(exc):
    body = getattr(exc, "body", None)
    if body is None:
        response = getattr(exc, "response", None)
        try:
            body = response.json() if response is not None else None
        except Exception:  # not read, not JSON, or no json(): no body to look at
            body = None
    return body if isinstance(body, dict) else {}


def _is_insufficient_quota(exc):
    body = _body_of(exc)
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    codes = (getattr(exc, "code", None), getattr(exc, "type", None), error.get("code"), error.get("type"))
    return "insufficient_quota" in codes


def _is_connection_error(exc):
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    names = {cls.__name__ for cls in type(exc).__mro__}
    # httpx's TransportError, openai's APIConnectionError (and APITimeoutError), requests'
    # ConnectionError, urllib's URLError: by name, so that none of them has to be installed
    return bool(names & {"TransportError", "APIConnectionError", "ConnectionError", "URLError"})


def _classify(exc):
    status = _status_of(exc)
    if _is_insufficient_quota(exc):
        return Failure(False, False, status)
    should_retry = _header(exc, "x-should-retry")  # the API may say explicitly; the SDKs obey it too
    if should_retry == "false":
        return Failure(False, False, status)
    if status is not None:
        retryable = should_retry == "true" or status in _RETRYABLE_STATUSES or status >= 500
        return Failure(retryable, status == 429, status)
    return Failure(_is_connection_error(exc), False, None)


def _retry_after_s(exc):
    """What the upstream asked for in ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    try:
        ms = float(_header(exc, "retry-after-ms") or "nan")
    except ValueError:
        ms = math.nan
    if ms > 0:
        return ms / 1000
    after = _header(exc, "retry-after")
    if after is None:
        return None
    try:
        seconds = float(after)
    except ValueError:
        seconds = math.nan
    if seconds > 0:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(after)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time()) if when else None


def _retry_delay_s(exc, attempt, max_retry_after_s=DEFAULT_MAX_RETRY_AFTER_MS / 1000):
    """The upstream's wish (at most ``max_retry_after_s``), else openai's own backoff: 0.5 s
    doubling to 8 s, minus up to 25 % jitter."""
    asked = _retry_after_s(exc)
    if asked is not None:
        return min(asked, max_retry_after_s)
    return min(0.5 * 2**attempt, 8.0) * (1 - random.random() * 0.25)


# --- the gate -----------------------------------------------------------------------


class _Gate:
    """At most ``size()`` holders; the rest wait in a bounded FIFO queue.

    Hand-written because asyncio.Semaphore cannot bound or report its waiters, put a retry
    at the head of the line, or pause after a 429. A released slot goes straight to the
    oldest waiter, so late arrivals never overtake the queue.
    """

    def __init__(self, size, max_queue, typical_call_s):
        self.size = size
        self.max_queue = max_queue
        self._typical_call_s = typical_call_s
        self.in_flight = 0
        self._waiters = collections.deque()
        self._paused_until = 0.0
        self._pause_timer = None
        self._closed_with = None
        self._idle_waiters = []

    @property
    def queued(self):
        return len(self._waiters)

    def pause_remaining_s(self):
        return max(0.0, self._paused_until - time.monotonic())

    def retry_after_ms(self):
        """Rough wait for a caller turned away: the pause left, else about one call (at least 1 s)."""
        return max(self.pause_remaining_s() * 1000, 1000, math.ceil(self._typical_call_s() * 1000))

    def _outlasted_by_pause(self, deadline, until):
        """A pause the call could not outlive: it would only be served after (or too near) its deadline."""
        return until + self._typical_call_s() >= deadline

    async def acquire(self, deadline, timeout_s, *, front=False, shed=False):
        """Take a slot; True when the call had to wait for it."""
        if self._closed_with:
            raise self._closed_with()
        self._dispatch()
        if self.in_flight < self.size() and not self.pause_remaining_s() and (front or not self._waiters):
            self.in_flight += 1
            return False
        if self.pause_remaining_s() and self._outlasted_by_pause(deadline, self._paused_until):
            raise LlmRateLimitedError(self.pause_remaining_s() * 1000)
        if shed:
            raise LlmOverloadedError("LLM pool is full and EMERGENCY_MODE sheds load", retry_after_ms=self.retry_after_ms())
        max_queue = self.max_queue()
        if not front and len(self._waiters) >= max_queue:
            raise LlmQueueFullError(f"LLM queue is full ({max_queue} waiting)", retry_after_ms=self.retry_after_ms())
        waiter = asyncio.get_running_loop().create_future()
        entry = (waiter, deadline)
        if front:
            self._waiters.appendleft(entry)
        else:
            self._waiters.append(entry)
        try:
            await asyncio.wait_for(waiter, max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            self._leave(entry)
            raise _timeout_error(timeout_s) from None
        except BaseException:
            self._leave(entry)
            raise
        return True

    def _leave(self, entry):
        waiter = entry[0]
        if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
            self.release()  # the slot was handed over just as the caller gave up
            return
        try:
            self._waiters.remove(entry)
        except ValueError:
            pass

    def release(self):
        self.in_flight -= 1
        self._dispatch()

    def pause(self, seconds):
        """After a 429 nobody gets a slot for ``seconds``, so queued calls wait out the same pause.

        Queued calls whose deadline comes first fail now with LlmRateLimitedError: waiting
        would only turn them into timeouts at their deadline.
        """
        until = time.monotonic() + seconds
        if until <= self._paused_until:
            return
        self._paused_until = until
        if self._pause_timer is not None:
            self._pause_timer.cancel()
        self._pause_timer = asyncio.get_running_loop().call_later(seconds, self._dispatch)
        for entry in [entry for entry in self._waiters if self._outlasted_by_pause(entry[1], until)]:
            self._waiters.remove(entry)
            if not entry[0].done():
                entry[0].set_exception(LlmRateLimitedError(seconds * 1000))

    def close(self, make_error):
        """Stop taking calls: every queued waiter and every later acquire fails with ``make_error()``."""
        self._closed_with = make_error
        while self._waiters:
            waiter, _ = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(make_error())

    async def idle(self):
        """Returns once nothing holds a slot."""
        if self.in_flight:
            waiter = asyncio.get_running_loop().create_future()
            self._idle_waiters.append(waiter)
            await waiter

    def _dispatch(self):
        # Also run on acquire, so a raised LLM_POOL_SIZE takes effect at once.
        while self._waiters and self.in_flight < self.size() and not self.pause_remaining_s():
            waiter, _ = self._waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)
        if self.in_flight == 0:
            waiting, self._idle_waiters = self._idle_waiters, []
            for waiter in waiting:
                if not waiter.done():
                    waiter.set_result(None)


def _shared_gate(gate, pool_size):
    """The gate, with the shared limit of llm_shared_limit.py (vendored beside this file) behind
    it when LLM_REDIS_URL is set; that module and redis-py are imported only then."""
    if not os.environ.get("LLM_REDIS_URL", "").strip():
        return gate
    import importlib

    module = importlib.import_module(f"{__package__}.llm_shared_limit" if __package__ else "llm_shared_limit")
    return module.shared_gate(gate, pool_size, _timeout_error)


# --- the limit algorithm -----------------------------------------------------------
# Separate from the gate that enforces it, as in Netflix's concurrency-limits: one sample per
# finished upstream attempt goes in, the current limit comes out. Same rules as the TypeScript
# runtime's limit.ts.

_FIRST_HOLD_ROUNDS = 4
_MAX_HOLD_ROUNDS = 32


class FixedLimit:
    """``LLM_POOL_SIZE=N``: the limit never moves."""

    def __init__(self, limit):
        self.current = limit

    def on_sample(self, sent_at, rtt_s, in_flight, did_drop, headroom):
        pass


# The latency signal (limit.ts's LatencyWatch): a round's mean upstream time more than
# LATENCY_TOLERANCE above the fastest of the last LATENCY_WINDOW_ROUNDS rounds (and by more
# than LATENCY_MIN_RISE_S) means calls queue inside the upstream, though nothing was refused.
_LATENCY_TOLERANCE = 0.25
# Twice the TypeScript runtime's 50 ms: an asyncio loop (and the threads run_sync uses) adds more
# delay of its own on a busy machine, which must not read as the upstream queueing.
_LATENCY_MIN_RISE_S = 0.1
_LATENCY_WINDOW_ROUNDS = 20


class _LatencyWatch:
    """Mean upstream time per round trip (a round ends with the answer to the first call sent
    after it began) against the fastest recent round (forgotten after the window, so a lasting
    slowdown becomes the new normal)."""

    def __init__(self):
        self._sum = 0.0
        self._count = 0
        self._round_started_at = -math.inf
        self._rounds = collections.deque(maxlen=_LATENCY_WINDOW_ROUNDS)

    def sample(self, sent_at, rtt_s, now):
        """One answer; at the end of a round, the factor to shrink the limit by (< 1) when its latency rose, else 1."""
        self._sum += rtt_s
        self._count += 1
        if sent_at < self._round_started_at:
            return 1.0
        self._round_started_at = now
        mean = self._sum / self._count
        self._sum, self._count = 0.0, 0
        fastest = min(self._rounds) if self._rounds else mean
        threshold = max(fastest * (1 + _LATENCY_TOLERANCE), fastest + _LATENCY_MIN_RISE_S)
        self._rounds.append(mean)
        return threshold / mean if mean > threshold else 1.0


class AimdLimit:
    """Additive increase, multiplicative decrease, with slow start and a memory of where the
    upstream said no (see the TypeScript runtime's limit.ts for the reasoning):

    - slow start: +1 per good sample until the first drop (then below the number in flight
      when the refused call was sent) or the first "no headroom";
    - then +1 per round (a round ends with the first sample of a call sent after the last change);
    - a drop steps back to the last level that held a whole round when above it (a failed
      probe), else multiplies by ``backoff_ratio`` (at least -1); once per round. The level that
      dropped is probed again after holding just below it for 4, 8, ... 32 rounds;
    - rate-limit headers: headroom 0 caps the limit at what was in flight; a known headroom caps
      growth at in flight + headroom, and the first such answer jumps there at once;
    - latency: a round whose mean upstream time rose well above the fastest recent round shrinks
      the limit in proportion (at least -1, at most halved) and ends slow start.

    Times are ``time.monotonic()`` seconds.
    """

    def __init__(self, minimum, maximum, initial=None, backoff_ratio=0.9):
        self.minimum = max(1, int(minimum))
        self.maximum = max(self.minimum, int(maximum))
        self.backoff_ratio = backoff_ratio
        self.current = self._clamp(initial if initial is not None else self.minimum)
        self._slow_start = True
        self._last_change_at = self._last_drop_at = self._round_started_at = -math.inf
        self._rounds_at_level = 0
        self._last_good = 0
        self._ceiling = math.inf
        self._hold_rounds = _FIRST_HOLD_ROUNDS
        self._latency = _LatencyWatch()

    def on_sample(self, sent_at, rtt_s, in_flight, did_drop, headroom):
        now = time.monotonic()
        if did_drop:
            if sent_at < self._last_drop_at:
                return  # sent before the last decrease: already answered for
            self._hold_rounds = min(_MAX_HOLD_ROUNDS, self._hold_rounds * 2) if self.current == self._ceiling else _FIRST_HOLD_ROUNDS
            self._ceiling = self.current
            self._last_drop_at = now
            probe_failed = 0 < self._last_good < self.current
            target = self._last_good if probe_failed else min(self.current - 1, math.floor(self.current * self.backoff_ratio))
            if self._slow_start:
                target = min(target, in_flight - 1)
            self._slow_start = False
            self._change(target, now)
            if not probe_failed:
                self._last_good = 0
            return
        if headroom == 0:
            self._slow_start = False
            if in_flight < self.current:
                self._change(in_flight, now)
            return
        shrink = self._latency.sample(sent_at, rtt_s, now)
        if shrink < 1 and self.current > self.minimum:
            self._slow_start = False
            self._change(min(self.current - 1, math.floor(self.current * max(0.5, shrink))), now)
            return
        fresh = sent_at >= self._round_started_at
        if fresh:
            self._round_started_at = now
            self._rounds_at_level += 1
            if sent_at >= self._last_change_at and self.current > self._last_good and not self._slow_start:
                self._last_good = self.current
        if headroom is not None and headroom > 0 and self._slow_start and fresh:
            self._slow_start = False
            if in_flight + headroom > self.current:
                self._change(in_flight + headroom, now)
            return
        if in_flight * 2 < self.current:
            return  # only a limit that is in use may grow
        if self._slow_start:
            self._change(self.current + 1, now)
            return
        if sent_at < self._last_change_at or not fresh:
            return
        if headroom is not None and headroom > 0 and self.current >= in_flight + headroom:
            return
        if self.current + 1 >= self._ceiling and self._rounds_at_level < self._hold_rounds:
            return
        if self.current + 1 > self._ceiling:
            self._ceiling = math.inf  # a probe above it held
        self._change(self.current + 1, now)

    def _change(self, limit, now):
        limit = self._clamp(limit)
        if limit == self.current:
            return
        self.current = limit
        self._last_change_at = self._round_started_at = now
        self._rounds_at_level = 0

    def _clamp(self, limit):
        return min(self.maximum, max(self.minimum, int(math.floor(limit))))


def _header_number(headers, *names):
    least = None
    for name in names:
        try:
            value = float(headers.get(name))
        except (TypeError, ValueError, AttributeError):
            continue
        if math.isfinite(value) and (least is None or value < least):
            least = value
    return least


def _reset_s(text):
    """OpenAI's durations (``6m0s``, ``1.5s``, ``250ms``) or Anthropic's RFC 3339 instants, in seconds from now."""
    if not text:
        return None
    if len(text) > 10 and text[4] == "-" and "T" in text:
        try:
            import datetime

            return max(0.0, datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() - time.time())
        except ValueError:
            return None
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    return sum(float(amount) * units[unit] for amount, unit in parts) if parts else None


def read_rate_limit_headers(headers):
    """What the upstream says about its rate limits: OpenAI's ``x-ratelimit-*`` and Anthropic's
    ``anthropic-ratelimit-*`` headers, or None when a response carries none of them."""
    if headers is None:
        return None
    remaining_requests = _header_number(headers, "x-ratelimit-remaining-requests", "anthropic-ratelimit-requests-remaining")
    remaining_tokens = _header_number(
        headers,
        "x-ratelimit-remaining-tokens",
        "anthropic-ratelimit-tokens-remaining",
        "anthropic-ratelimit-input-tokens-remaining",
        "anthropic-ratelimit-output-tokens-remaining",
    )
    if remaining_requests is None and remaining_tokens is None:
        return None
    return {
        "limit_requests": _header_number(headers, "x-ratelimit-limit-requests", "anthropic-ratelimit-requests-limit"),
        "remaining_requests": remaining_requests,
        "remaining_tokens": remaining_tokens,
        "tokens_reset_s": _reset_s(headers.get("x-ratelimit-reset-tokens") or headers.get("anthropic-ratelimit-tokens-reset")),
    }


def _headroom(reading, tokens_per_call, in_flight):
    """More calls the upstream would take beyond ``in_flight``: the least of its remaining
    requests, remaining tokens / tokens per call, and its request limit less what was out."""
    if reading is None:
        return None
    candidates = [reading["remaining_requests"]]
    if tokens_per_call > 0 and reading["remaining_tokens"] is not None:
        candidates.append(math.floor(reading["remaining_tokens"] / tokens_per_call))
    if reading["limit_requests"] is not None:
        candidates.append(reading["limit_requests"] - in_flight)
    known = [value for value in candidates if value is not None]
    return max(0, min(known)) if known else None


def _token_usage(response):
    """``(input, output)`` tokens a response says it used, or None."""
    usage = _get(response, "usage")
    if usage is None:
        return None
    found = [_get(usage, name) for name in ("input_tokens", "prompt_tokens", "output_tokens", "completion_tokens")]
    numbers = [value if isinstance(value, (int, float)) else None for value in found]
    tokens_in = numbers[0] if numbers[0] is not None else numbers[1]
    tokens_out = numbers[2] if numbers[2] is not None else numbers[3]
    if tokens_in is None and tokens_out is None:
        return None
    return (tokens_in or 0, tokens_out or 0)


# --- metrics ------------------------------------------------------------------------


class _Histogram:
    def __init__(self, buckets):
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.sum = 0.0
        self.count = 0

    def observe(self, seconds):
        index = bisect.bisect_left(self.buckets, seconds)
        if index < len(self.buckets):
            self.counts[index] += 1
        self.sum += seconds
        self.count += 1

    def lines(self, name, labels=""):
        """Sample lines; ``labels`` is a rendered label list (``a="x",b="y"``) put before ``le``."""
        lead = labels + "," if labels else ""
        braces = "{" + labels + "}" if labels else ""
        cumulative = 0
        for bound, count in zip(self.buckets, self.counts):
            cumulative += count
            yield f'{name}_bucket{{{lead}le="{bound}"}} {cumulative}'
        yield f'{name}_bucket{{{lead}le="+Inf"}} {self.count}'
        yield f"{name}_sum{braces} {_number(self.sum)}"
        yield f"{name}_count{braces} {self.count}"


class _LabelledHistogram:
    """One _Histogram per label set, as the TypeScript runtime's LabelledHistogram."""

    def __init__(self, buckets):
        self.buckets = buckets
        self.series = {}  # rendered labels -> _Histogram

    def observe(self, labels, value):
        series = self.series.get(labels)
        if series is None:
            series = self.series[labels] = _Histogram(self.buckets)
        series.observe(value)

    def lines(self, name):
        for labels, series in self.series.items():
            yield from series.lines(name, labels)


# OpenTelemetry's advice for gen_ai.client.token.usage: 1 quadrupling to 67,108,864.
_TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)


def _call_labels(operation, provider, model):
    """OpenTelemetry's GenAI attributes of a call, rendered as Prometheus labels."""
    escaped = model.replace("\\", "\\\\").replace('"', '\\"')
    return f'gen_ai_operation_name="{operation}",gen_ai_provider_name="{provider}",gen_ai_request_model="{escaped}"'


# A callable given to run() or run_sync() is opaque: `_OTHER` (OpenTelemetry's word) and no model.
_OPAQUE_CALL = _call_labels("_OTHER", "_OTHER", "")


def _number(value):
    return str(int(value)) if float(value).is_integer() else repr(round(value, 6))


def _round(value):
    return round(value, 3)


def _percentile(sorted_values, q):
    """Nearest rank, as the TypeScript runtime computes it."""
    if not sorted_values:
        return 0
    return _round(sorted_values[min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1)])


class _Metrics:
    """Counters, a one-minute window for rps, error rate and latency, and two histograms.

    Only numbers: never prompts, answers or keys.
    """

    def __init__(self):
        self.requests_total = 0
        self.errors_total = 0
        self.rate_limited_total = 0
        self.retries_total = 0
        self.errors_by_type = dict.fromkeys(_ERROR_TYPES, 0)
        # Moving average of call latency: a cheap Retry-After hint for a call turned away.
        self.typical_latency_ms = 0.0
        self.duration = _LabelledHistogram(_DURATION_BUCKETS)  # one upstream attempt, by call and error_type
        self.tokens = _LabelledHistogram(_TOKEN_BUCKETS)
        self.queue_wait = _Histogram(_DURATION_BUCKETS)
        self._started = time.monotonic()
        self._per_second = collections.OrderedDict()  # second -> [finished, failed]
        self._samples = collections.deque(maxlen=_MAX_SAMPLES)  # (finished at, latency ms)

    def record_call(self, elapsed_s, error_type):
        latency_ms = elapsed_s * 1000
        self.requests_total += 1
        if error_type:
            self.errors_total += 1
            self.errors_by_type[error_type] += 1
        self.typical_latency_ms = latency_ms if self.requests_total == 1 else self.typical_latency_ms * 0.9 + latency_ms * 0.1
        now = time.monotonic()
        second = int(now)
        counts = self._per_second.setdefault(second, [0, 0])
        counts[0] += 1
        counts[1] += 1 if error_type else 0
        while next(iter(self._per_second)) <= second - _WINDOW_S:
            self._per_second.popitem(last=False)
        self._samples.append((now, latency_ms))

    def window(self):
        now = time.monotonic()
        second = int(now)
        finished = failed = 0
        for at, (count, errors) in self._per_second.items():
            if second - at < _WINDOW_S:
                finished += count
                failed += errors
        latencies = sorted(ms for at, ms in self._samples if now - at <= _WINDOW_S)
        # Early on the window is not full yet: divide by the time actually covered.
        covered = min(_WINDOW_S, max(1.0, now - self._started))
        return {
            "rps": _round(finished / covered),
            "errorRate": _round(failed / finished) if finished else 0,
            "latencyMs": {
                "avg": _round(sum(latencies) / len(latencies)) if latencies else 0,
                "p50": _percentile(latencies, 0.5),
                "p95": _percentile(latencies, 0.95),
                "p99": _percentile(latencies, 0.99),
            },
        }


def _error_type(exc):
    if isinstance(exc, asyncio.CancelledError):
        return "aborted"
    if isinstance(exc, LlmError):
        return exc.code[len("llm_"):] if exc.code[len("llm_"):] in _ERROR_TYPES else "other"
    return "other"


# --- response text ------------------------------------------------------------------


def _get(value, name):
    if isinstance(value, dict):
        return value.get(name)
    return getattr(value, name, None)


def _text_of(content):
    """Content that is a string, or a list of text parts (``{"type": "text" | "output_text", "text"}``)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, (list, tuple)):
        return None
    parts = [_get(p, "text") for p in content if _get(p, "type") in ("text", "output_text")]
    parts = [text for text in parts if isinstance(text, str)]
    return "".join(parts) if parts else None


def _from_responses(response):
    output_text = _get(response, "output_text")
    if isinstance(output_text, str) and output_text:
        return output_text
    output = _get(response, "output")
    if not isinstance(output, (list, tuple)):
        return output_text if isinstance(output_text, str) else None
    texts = (_text_of(_get(item, "content")) for item in output if _get(item, "type") == "message")
    return "".join(text for text in texts if text is not None)


def _from_choices(response):
    choices = _get(response, "choices")
    if not isinstance(choices, (list, tuple)) or not choices:
        return None
    first = choices[0]
    for text in (_text_of(_get(_get(first, "message"), "content")), _text_of(_get(first, "text")), _text_of(_get(_get(first, "delta"), "content"))):
        if text is not None:
            return text
    return None


def extract_output_text(response):
    """The assistant text of a Responses, chat completions, v3-style (``data``) or completions reply."""
    if isinstance(response, str):
        return response
    for text in (_from_responses(response), _from_choices(response), _from_choices(_get(response, "data"))):
        if text is not None:
            return text
    return ""


# --- the client ---------------------------------------------------------------------


class AsyncLlmClient:
    """Gates every upstream call: at most ``pool_size`` in flight, a bounded FIFO queue, one
    deadline over queue wait and retries, and retries that hold no slot while they wait.

    LLM_POOL_SIZE, LLM_MAX_QUEUE, LLM_TIMEOUT_MS and LLM_MAX_RETRIES override the settings
    given here, read on every call; LLM_CANARY_PERCENT too, from a reading at most
    SWITCH_REFRESH_S old.
    """

    def __init__(
        self,
        pool_size=DEFAULTS["pool_size"],
        *,
        canary_percent=DEFAULTS["canary_percent"],
        max_queue=DEFAULTS["max_queue"],
        timeout_s=DEFAULTS["timeout_s"],
        max_retries=DEFAULTS["max_retries"],
        max_retry_after_ms=DEFAULT_MAX_RETRY_AFTER_MS,
        pool_min=DEFAULTS["pool_min"],
        pool_max=DEFAULTS["pool_max"],
        model=None,
        api=None,
    ):
        api = api or (os.environ.get("LLM_API") if os.environ.get("LLM_API") in ("responses", "chat") else "responses")
        if api not in ("responses", "chat"):
            raise ValueError(f'api must be "responses" or "chat", not {api!r}')
        self.settings = {
            "pool_size": pool_size,
            "canary_percent": canary_percent,
            "max_queue": max_queue,
            "timeout_s": timeout_s,
            "max_retries": max_retries,
            "max_retry_after_ms": max_retry_after_ms,
            "pool_min": pool_min,
            "pool_max": pool_max,
            "model": model,
            "api": api,
        }
        # LLM_POOL_SIZE=auto (or pool_size="auto"), decided at startup: the limit finds the
        # upstream's capacity between LLM_POOL_MIN and LLM_POOL_MAX.
        if os.environ.get("LLM_POOL_SIZE", "").strip().lower() == "auto" or (pool_size == "auto" and _env_number("LLM_POOL_SIZE", 1) is None):
            minimum = self._setting("pool_min", "LLM_POOL_MIN", 1, int)
            self._limit = AimdLimit(minimum, max(minimum, self._setting("pool_max", "LLM_POOL_MAX", 1, int)))
        else:
            self._limit = None
        self._tokens_per_call = 0.0
        self._metrics = _Metrics()
        self._gate = _Gate(
            lambda: self.pool_size,
            lambda: self.max_queue,
            lambda: self._metrics.typical_latency_ms / 1000,
        )
        self._gate = _shared_gate(self._gate, self.pool_size)  # one limit across replicas when LLM_REDIS_URL is set
        self._draining = False
        self._running = set()
        self._upstream = None

    def _setting(self, name, env, minimum, convert):
        value = _env_number(env, minimum)
        return convert(value) if value is not None else self.settings[name]

    @property
    def pool_size(self):
        """Upstream calls allowed at once now: LLM_POOL_SIZE (read on every call), or where the adaptive limit stands."""
        if self._limit is not None:
            return self._limit.current
        if os.environ.get("LLM_POOL_SIZE", "").strip().lower() == "auto":
            return self.settings["pool_size"] if self.settings["pool_size"] != "auto" else DEFAULTS["pool_size"]
        size = self._setting("pool_size", "LLM_POOL_SIZE", 1, int)
        return DEFAULTS["pool_size"] if size == "auto" else size

    @property
    def canary_percent(self):
        percent = _switch("LLM_CANARY_PERCENT")
        return float(percent) if percent is not None else self.settings["canary_percent"]

    @property
    def max_queue(self):
        return self._setting("max_queue", "LLM_MAX_QUEUE", 0, int)

    @property
    def timeout_s(self):
        value = _env_number("LLM_TIMEOUT_MS", 1)
        return value / 1000 if value is not None else self.settings["timeout_s"]

    @property
    def max_retries(self):
        return self._setting("max_retries", "LLM_MAX_RETRIES", 0, int)

    @property
    def max_retry_after_ms(self):
        return self._setting("max_retry_after_ms", "LLM_MAX_RETRY_AFTER_MS", 0, float)

    @property
    def model(self):
        return self.settings["model"] or os.environ.get("LLM_MODEL") or DEFAULT_MODEL

    @property
    def in_flight(self):
        return self._gate.in_flight

    @property
    def queued(self):
        return self._gate.queued

    # Gated calls.

    async def run(self, fn, *args, key=None, **kwargs):
        """``await fn(*args, **kwargs)`` through the gate, with the runtime's retries.

        Give SDK clients ``max_retries=0`` so retries do not stack. ``key`` is the caller's
        user key, as in the TypeScript runtime's ``run(task, { key })``; it is logged nowhere.
        """
        return await self._gated(lambda: fn(*args, **kwargs), cancellable=True)

    async def run_sync(self, fn, *args, key=None, **kwargs):
        """Run a blocking ``fn`` in a worker thread (``asyncio.to_thread``) through the gate.

        A thread cannot be stopped: past the deadline the caller gets LlmTimeoutError, but the
        slot stays taken until the thread returns, so the pool still bounds the upstream.
        """
        return await self._gated(lambda: asyncio.to_thread(fn, *args, **kwargs), cancellable=False)

    async def generate_response_async(self, messages, model=None, *, key=None):
        """One reply for ``messages`` (chat messages or a prompt string); read it with extract_output_text."""
        model = model or self.model
        readings = []
        labels = _call_labels("chat", "openai", model)
        return await self._gated(lambda: self._create(messages, model, readings), cancellable=True, readings=readings, labels=labels)

    def _sample(self, sent_at, in_flight_at_send, did_drop, reading):
        """Feed one finished attempt to the adaptive limit (a fixed pool skips this)."""
        headroom = _headroom(reading, self._tokens_per_call, in_flight_at_send)
        # Out of tokens until the budget is back: wait that out now rather than meet the 429.
        if reading and self._tokens_per_call and (reading["remaining_tokens"] or 0) < self._tokens_per_call and reading["tokens_reset_s"]:
            self._gate.pause(min(reading["tokens_reset_s"], self.max_retry_after_ms / 1000))
        self._limit.on_sample(sent_at, time.monotonic() - sent_at, in_flight_at_send, did_drop, headroom)

    def _note_usage(self, result):
        usage = _token_usage(result)
        if usage is not None:
            total = usage[0] + usage[1]
            self._tokens_per_call = total if not self._tokens_per_call else self._tokens_per_call * 0.9 + total * 0.1

    def _record_attempt(self, labels, started, error_type):
        self._metrics.duration.observe(f'{labels},error_type="{error_type}"', time.monotonic() - started)

    async def _gated(self, start_attempt, cancellable, readings=None, labels=_OPAQUE_CALL):
        if self._draining:
            raise LlmDrainingError()
        started = time.monotonic()
        timeout_s = self.timeout_s
        deadline = started + timeout_s
        error_type = None
        try:
            retries = 0
            while True:
                waited = await self._gate.acquire(deadline, timeout_s, front=retries > 0, shed=_switch("EMERGENCY_MODE"))
                if retries == 0 and waited:
                    self._metrics.queue_wait.observe(time.monotonic() - started)
                sent_at = time.monotonic()
                in_flight_at_send = self._gate.in_flight
                try:
                    result = await self._attempt(start_attempt, deadline, timeout_s, cancellable)
                except LlmTimeoutError:
                    self._record_attempt(labels, sent_at, "timeout")
                    if self._limit is not None:
                        self._sample(sent_at, in_flight_at_send, True, None)  # a timeout is a drop too
                    raise
                except (LlmError, asyncio.CancelledError):
                    raise  # the attempt gave its slot back (or will, once its work ends)
                except Exception as exc:
                    failure = _classify(exc)
                    self._record_attempt(labels, sent_at, str(failure.status) if failure.status else "connection" if failure.retryable else "_OTHER")
                    if self._limit is not None:
                        self._sample(sent_at, in_flight_at_send, failure.retryable, read_rate_limit_headers(_headers_of(exc)))
                    delay_s = _retry_delay_s(exc, retries, self.max_retry_after_ms / 1000) if failure.retryable else 0.0
                    if failure.rate_limited:
                        self._metrics.rate_limited_total += 1
                        if failure.retryable:
                            # Paused before the slot is free, so no queued call slips into the pause.
                            self._gate.pause(delay_s)
                    self._gate.release()
                    if not failure.retryable:
                        raise
                    if retries >= self.max_retries:
                        raise LlmUpstreamError(status=failure.status, attempts=retries + 1, retry_after_ms=math.ceil(delay_s * 1000)) from exc
                    if deadline - time.monotonic() <= delay_s:
                        if failure.rate_limited:
                            raise LlmRateLimitedError(max(delay_s, self._gate.pause_remaining_s()) * 1000) from exc
                        raise _timeout_error(timeout_s, retry_after_ms=math.ceil(delay_s * 1000)) from exc
                    self._metrics.retries_total += 1
                    # After a 429 the retry waits at the head of the paused queue, holding no
                    # slot; otherwise it sleeps alone.
                    if not failure.rate_limited or _switch("EMERGENCY_MODE"):
                        await asyncio.sleep(delay_s)
                else:
                    self._record_attempt(labels, sent_at, "")
                    usage = _token_usage(result)
                    if usage is not None:
                        self._metrics.tokens.observe(f'{labels},gen_ai_token_type="input"', usage[0])
                        self._metrics.tokens.observe(f'{labels},gen_ai_token_type="output"', usage[1])
                    if self._limit is not None:
                        self._note_usage(result)
                        self._sample(sent_at, in_flight_at_send, False, readings[-1] if readings else None)
                    self._gate.release()
                    return result
                retries += 1
        except BaseException as exc:
            error_type = _error_type(exc)
            raise
        finally:
            self._metrics.record_call(time.monotonic() - started, error_type)

    async def _attempt(self, start_attempt, deadline, timeout_s, cancellable):
        """One upstream attempt in a slot.

        Returns (or raises the work's own error) still holding the slot, for the caller to
        release. On a deadline, a cancellation or a drain it raises and lets the slot go when
        the work really ends: at once for a cancelled coroutine, later for a thread.
        """
        task = asyncio.ensure_future(start_attempt())
        if cancellable:
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        try:
            done, _ = await asyncio.wait({task}, timeout=max(0.0, deadline - time.monotonic()))
        except BaseException:
            self._abandon(task, cancellable)
            raise
        if not done:
            self._abandon(task, cancellable)
            raise _timeout_error(timeout_s)
        if task.cancelled():
            self._gate.release()
            raise LlmDrainingError()  # only drain() cancels a running attempt
        return task.result()

    def _abandon(self, task, cancellable):
        if cancellable:
            task.cancel()
        task.add_done_callback(self._release_abandoned)

    def _release_abandoned(self, task):
        self._gate.release()
        if not task.cancelled():
            task.exception()  # retrieved, so an abandoned thread's error is not reported as lost

    async def _create(self, messages, model, readings):
        chat_messages = [{"role": "user", "content": messages}] if isinstance(messages, str) else messages
        if openai is not None:
            if self._upstream is None:
                # max_retries=0: this runtime retries; the SDK must not stack its own. The SDK
                # refuses to start without a key, and local OpenAI-compatible servers need none.
                api_key = os.environ.get("OPENAI_API_KEY") or "no-api-key-set"
                self._upstream = openai.AsyncOpenAI(api_key=api_key, max_retries=0)
            api = self._upstream.chat.completions if self.settings["api"] == "chat" else self._upstream.responses
            body = {"model": model, "messages": chat_messages} if self.settings["api"] == "chat" else {"model": model, "input": messages}
            if self._limit is None:
                return await api.create(**body)
            raw = await api.with_raw_response.create(**body)  # its headers feed the adaptive limit
            readings.append(read_rate_limit_headers(raw.headers))
            return raw.parse()
        if self._upstream is None:
            import httpx  # only here: migrated call sites run the app's own callables and need no HTTP client

            headers = {"authorization": f"Bearer {os.environ['OPENAI_API_KEY']}"} if os.environ.get("OPENAI_API_KEY") else {}
            self._upstream = httpx.AsyncClient(
                base_url=os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL,
                headers=headers,
                timeout=None,  # the call's deadline bounds every attempt
            )
        if self.settings["api"] == "chat":
            reply = await self._upstream.post("/chat/completions", json={"model": model, "messages": chat_messages})
        else:
            reply = await self._upstream.post("/responses", json={"model": model, "input": messages})
        reply.raise_for_status()  # httpx.HTTPStatusError, as the SDK raises its APIStatusError
        readings.append(read_rate_limit_headers(reply.headers))
        return reply.json()

    # Metrics.

    def get_metrics(self):
        """The metrics, with the same keys as the TypeScript runtime's getMetrics()."""
        window = self._metrics.window()
        pool_size = self.pool_size
        in_flight = self.in_flight
        metrics = self._metrics
        return {
            "poolSize": pool_size,
            "poolMode": "fixed" if self._limit is None else "auto",
            "inFlight": in_flight,
            "queued": self.queued,
            "maxQueue": self.max_queue,
            "requestsTotal": metrics.requests_total,
            "errorsTotal": metrics.errors_total,
            "errorRate": window["errorRate"],
            "rps": window["rps"],
            "latencyMs": window["latencyMs"],
            "rateLimitedTotal": metrics.rate_limited_total,
            "retriesTotal": metrics.retries_total,
            "errorsByType": dict(metrics.errors_by_type),
            "paths": _path_counts(),
            "utilisation": _round(in_flight / pool_size) if pool_size else 0,
            "windowSeconds": _WINDOW_S,
            "pauseRemainingMs": math.ceil(self._gate.pause_remaining_s() * 1000),
            "emergencyMode": _flag("EMERGENCY_MODE"),
            "draining": self._draining,
            **({"shared": self._gate.snapshot()} if hasattr(self._gate, "snapshot") else {}),
        }

    def metrics_text(self):
        """Prometheus text exposition, with the TypeScript runtime's metric names."""
        # Hand-written: prometheus_client is not in the standard library, and this is a dozen lines.
        metrics = self._metrics
        paths = _path_counts()
        blocks = [
            ("gen_ai_client_operation_duration_seconds", "histogram",
             "Duration of upstream LLM calls, one per attempt; queue wait and backoff are not in it",
             list(metrics.duration.lines("gen_ai_client_operation_duration_seconds"))),
            ("gen_ai_client_token_usage", "histogram",
             "Tokens per upstream call, from the answers' usage, by gen_ai_token_type (input, output)",
             list(metrics.tokens.lines("gen_ai_client_token_usage"))),
            ("llm_gate_queue_wait_seconds", "histogram", "Time calls that found the pool busy waited for a slot",
             list(metrics.queue_wait.lines("llm_gate_queue_wait_seconds"))),
            ("llm_gate_pool_size", "gauge", "Concurrent upstream calls allowed now: LLM_POOL_SIZE, or the adaptive limit's current value",
             [f"llm_gate_pool_size {self.pool_size}"]),
            ("llm_gate_enabled", "gauge", "1 while calls go through the gate, 0 in legacy mode (no client, DISABLE_POOL)",
             [f"llm_gate_enabled {0 if _flag('DISABLE_POOL') else 1}"]),
            ("llm_gate_emergency_mode", "gauge", "1 while EMERGENCY_MODE sheds calls beyond the pool instead of queueing them",
             [f"llm_gate_emergency_mode {1 if _flag('EMERGENCY_MODE') else 0}"]),
            ("llm_gate_in_flight", "gauge", "Upstream calls holding a pool slot", [f"llm_gate_in_flight {self.in_flight}"]),
            ("llm_gate_pause_remaining_seconds", "gauge", "Time until the pause after an upstream 429 ends (0: not paused)",
             [f"llm_gate_pause_remaining_seconds {_number(self._gate.pause_remaining_s())}"]),
            ("llm_gate_queued", "gauge", "Calls waiting for a pool slot", [f"llm_gate_queued {self.queued}"]),
            ("llm_requests_total", "counter", "Gated LLM calls finished, by outcome",
             [f'llm_requests_total{{outcome="ok"}} {metrics.requests_total - metrics.errors_total}',
              f'llm_requests_total{{outcome="error"}} {metrics.errors_total}']),
            ("llm_errors_total", "counter", "Gated LLM calls that failed, by error type",
             [f'llm_errors_total{{error_type="{kind}"}} {count}' for kind, count in metrics.errors_by_type.items()]),
            ("llm_rate_limited_total", "counter", "Upstream 429 answers", [f"llm_rate_limited_total {metrics.rate_limited_total}"]),
            ("llm_retries_total", "counter", "Upstream attempts that were retries", [f"llm_retries_total {metrics.retries_total}"]),
            ("llm_path_total", "counter", "Call sites that took the new (gated) or the legacy path",
             [f'llm_path_total{{path="new"}} {paths["new"]}', f'llm_path_total{{path="legacy"}} {paths["legacy"]}']),
        ]
        if hasattr(self._gate, "prometheus_blocks"):
            blocks += self._gate.prometheus_blocks()
        lines = []
        for name, kind, help_text, samples in blocks:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *samples]
        return "\n".join(lines) + "\n"

    async def drain(self, deadline_s=30.0):
        """Shutdown: refuse new calls, fail queued ones with LlmDrainingError (retryable), let
        in-flight ones finish. After ``deadline_s`` the ones still running are cancelled (a
        thread cannot be). True when everything finished in time."""
        self._draining = True
        self._gate.close(LlmDrainingError)
        try:
            await asyncio.wait_for(self._gate.idle(), deadline_s)
            finished_in_time = True
        except asyncio.TimeoutError:
            finished_in_time = False
            for task in list(self._running):
                task.cancel()
        if finished_in_time and self._upstream is not None:
            upstream, self._upstream = self._upstream, None
            # httpx.AsyncClient closes with aclose(), openai.AsyncOpenAI with close().
            await (upstream.aclose() if hasattr(upstream, "aclose") else upstream.close())
        return finished_in_time


# --- the process-wide client --------------------------------------------------------

_client = None
_client_lock = threading.Lock()
_warned_about_settings = False
_paths = {"new": 0, "legacy": 0}
_paths_lock = threading.Lock()  # sync `def` routes count paths from FastAPI's worker threads


def get_async_llm_client(
    pool_size=None,
    *,
    canary_percent=None,
    max_queue=None,
    timeout_s=None,
    max_retries=None,
    max_retry_after_ms=None,
    pool_min=None,
    pool_max=None,
    model=None,
    api=None,
):
    """The one client of the process. The first call's settings win; a later call asking for
    others logs one warning. Without arguments it returns the client (made from the
    environment if none)."""
    global _client, _warned_about_settings
    asked = {
        "pool_size": pool_size,
        "canary_percent": canary_percent,
        "max_queue": max_queue,
        "timeout_s": timeout_s,
        "max_retries": max_retries,
        "max_retry_after_ms": max_retry_after_ms,
        "pool_min": pool_min,
        "pool_max": pool_max,
        "model": model,
        "api": api,
    }
    asked = {name: value for name, value in asked.items() if value is not None}
    with _client_lock:
        if _client is None:
            _client = AsyncLlmClient(**asked)
            return _client
        differs = sorted(name for name, value in asked.items() if _client.settings[name] != value)
        if differs and not _warned_about_settings:
            _warned_about_settings = True
            logger.warning(
                "llm_api: get_async_llm_client() was called again with other settings (%s); "
                "the first call's settings stay in force.",
                ", ".join(differs),
            )
        return _client


def _path_counts():
    with _paths_lock:
        return dict(_paths)


def _in_canary(key, percent):
    # A call with no user key is drawn at random, so the canary still holds its share of calls;
    # one shared bucket would put all of them on one side.
    if key is None or key == "":
        return random.random() * 100 < percent
    return is_in_canary(key, percent)


# The request's user key, set once per request by the middleware llm-migrate adds; asyncio
# tasks and asyncio.to_thread copy it, so gated calls in any module read it unchanged.
_request_key = contextvars.ContextVar("llm_request_key", default=None)


def set_llm_request_key(key):
    """Set the current request's canary key, for gated calls made with ``key=None``."""
    _request_key.set(None if key is None else str(key))


def use_new_llm_path(key=None):
    """Which path this call takes: False (legacy) when no client was created, DISABLE_POOL or
    FORCE_LEGACY_LLM is set, or the key is outside the canary (the switches as read from the
    environment at most SWITCH_REFRESH_S ago). Without a key, the request's key
    (set_llm_request_key) is used, so a user stays on one path. Counted in ``paths``."""
    if key is None or key == "":
        key = _request_key.get()
    client = _client
    use_new = (
        client is not None
        and not _switch("DISABLE_POOL")
        and not _switch("FORCE_LEGACY_LLM")
        and _in_canary(key, client.canary_percent)
    )
    with _paths_lock:
        _paths["new" if use_new else "legacy"] += 1
    return use_new


def _legacy_mode_body():
    if _client is None:
        warning = "no async LLM client was created: every call takes the legacy path"
    elif _flag("DISABLE_POOL"):
        warning = "DISABLE_POOL is set: every call takes the legacy path"
    else:
        return None
    return {"status": "legacy_mode", "warning": warning, "paths": _path_counts()}


def get_metrics():
    """The client's metrics, or ``{"status": "legacy_mode", "warning", "paths"}`` when the pool is off."""
    return _legacy_mode_body() or _client.get_metrics()


def _metrics_refused(authorization):
    """LLM_METRICS=off turns the route off (404); LLM_METRICS_TOKEN asks for ``Authorization:
    Bearer <token>`` (401 without it). None when the request may go on."""
    if os.environ.get("LLM_METRICS", "").strip().lower() in ("off", "false", "0", "no"):
        return 404, JSON_TYPE, json.dumps({"error": "not found"})
    token = os.environ.get("LLM_METRICS_TOKEN")
    if not token:
        return None
    given = (authorization if isinstance(authorization, str) else "").encode()
    # Compared in constant time, so the token cannot be guessed byte by byte from response times.
    if hmac.compare_digest(given, f"Bearer {token}".encode()):
        return None
    return 401, JSON_TYPE, json.dumps({"error": "unauthorized"})


def _request_header(headers, name):
    """A header from a case-insensitive mapping (Starlette, aiohttp) or a plain dict in either case."""
    value = headers.get(name)
    return value if value is not None else headers.get(name.title())


def _legacy_mode_text():
    paths = _path_counts()
    return "\n".join([
        "# HELP llm_gate_enabled 1 while calls go through the gate, 0 in legacy mode (no client, DISABLE_POOL)",
        "# TYPE llm_gate_enabled gauge",
        "llm_gate_enabled 0",
        "# HELP llm_path_total Call sites that took the new (gated) or the legacy path",
        "# TYPE llm_path_total counter",
        f'llm_path_total{{path="new"}} {paths["new"]}',
        f'llm_path_total{{path="legacy"}} {paths["legacy"]}',
    ]) + "\n"


def metrics_response(format=None, accept=None, authorization=None, headers=None):
    """``(status, content_type, body)`` for GET /metrics/llm: JSON by default, Prometheus text
    for ``?format=prometheus`` or an Accept header asking for text/plain, in every mode (with the
    pool off the JSON says legacy_mode and the text ``llm_gate_enabled 0``, so a scrape never
    breaks during a rollback); 404 with LLM_METRICS=off, 401 without LLM_METRICS_TOKEN's bearer.
    ``headers``: the request's headers (Starlette's or aiohttp's, or a dict), where Accept and
    Authorization are read when not given on their own."""
    if headers is not None:
        accept = accept if accept is not None else _request_header(headers, "accept")
        authorization = authorization if authorization is not None else _request_header(headers, "authorization")
    refused = _metrics_refused(authorization)
    if refused:
        return refused
    format = format.lower() if isinstance(format, str) else None
    accept = accept.lower() if isinstance(accept, str) else ""
    if format == "prometheus" or (format is None and "text/plain" in accept):
        return 200, PROMETHEUS_TYPE, _client.metrics_text() if _client is not None else _legacy_mode_text()
    legacy = _legacy_mode_body()
    if legacy:
        return 200, JSON_TYPE, json.dumps(legacy)
    return 200, JSON_TYPE, json.dumps(_client.get_metrics())


def llm_http_error(exc):
    """``(503, {"Retry-After": seconds}, body)`` for the runtime's retryable errors, else None."""
    if not isinstance(exc, LlmError) or not exc.retryable:
        return None
    retry_after_ms = exc.retry_after_ms or 1000
    body = {"error": {"code": exc.code, "message": str(exc), "retryable": True, "retryAfterMs": math.ceil(retry_after_ms)}}
    return 503, {"Retry-After": str(max(1, math.ceil(retry_after_ms / 1000)))}, body


async def drain(deadline_s=30.0):
    """Drain the process-wide client (see AsyncLlmClient.drain); True when nothing is left."""
    if _client is None:
        return True
    return await _client.drain(deadline_s)
