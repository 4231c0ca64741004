"""The shared per-connection rate budget (DESIGN §7): one pace per CRM connection, held in Redis so
every worker on every machine draws from the same budget, and a `requests.Session` that takes a
slot before each HTTP call.

Why a GCRA script and not `limits`: `limits` windows are whole seconds with whole call counts, so
a budget like 300/min can only be approximated by bursts at window edges, and a caller that finds
no slot can only poll. The CRM's own rolling window then sees those edge bursts as 429s, and
polling workers thrash. GCRA (a token bucket expressed as one "theoretical arrival time" per
connection) paces calls evenly at any fractional rate, allows a small burst, and lets a caller
*reserve* the next slot: it learns exactly how long to wait, and nobody else can take that slot.

Budget arithmetic: we pace at `SAFETY` × the documented rate and allow a burst of a few calls, so
that in any window of the CRM's length we send at most `burst + ⌊window / interval⌋` ≤ `calls − 1`,
leaving room for the jitter between taking a slot and the request reaching the CRM.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import redis
import requests

from providers.errors import RateLimited
from providers.http import USER_AGENT

SAFETY = 0.95          # fraction of the documented budget we actually use
DEFAULT_MAX_WAIT = 1.0  # seconds a worker may wait in-process for its slot; longer → RateLimited
# Mid-job (the session already made a call) a worker may wait up to one pace interval, capped:
# giving up there would throw away the job's progress, and on a slow budget (CATS: one call per
# ~7.6 s) every retry would spend its first slot and stall on the second, forever.
MID_JOB_MAX_WAIT = 10.0

# KEYS[1] = the connection's theoretical-arrival-time key.
# ARGV = interval (s per call), tolerance (s of burst), max_wait (s).
# Returns {granted 0|1, wait seconds as a string}. Uses the Redis clock so workers on machines
# with skewed clocks still share one pace.
_GCRA = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if wait > max_wait then return {0, tostring(wait - max_wait)} end
local new_tat = tat + interval
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return {1, tostring(wait)}
"""


@dataclass(frozen=True)
class Pace:
    """`calls` per `seconds` as the CRM documents it, turned into an even pace plus a burst."""
    calls: int
    seconds: float

    @property
    def burst(self) -> int:
        # Half the headroom goes to bursts, half stays as slack for slot-to-arrival jitter.
        return max(1, math.floor(self.calls * (1 - SAFETY) / 2))

    @property
    def paced_calls(self) -> float:
        """Calls per window at the even pace. A small budget (10/s) has under two calls of
        headroom at SAFETY, so it keeps at least one whole call of slack instead."""
        return max(0.5, min(self.calls * SAFETY, self.calls - self.burst - 1))

    @property
    def interval(self) -> float:
        return self.seconds / self.paced_calls

    @property
    def per_minute(self) -> float:
        return self.paced_calls * 60.0 / self.seconds


def pace_for(provider_cls: Any, rate_limit_per_minute: int | None, window: float = 60.0) -> Pace | None:
    """The connection's override (calls/minute) if set, else the provider's documented budget.

    An override is enforced over a rolling `window` of seconds (a minute unless configured with
    RATE_BUDGET_WINDOW_SECONDS: tests and bench/ use a short one to see a full window quickly).
    None means "no limit" (an override of 0)."""
    if rate_limit_per_minute is not None:
        if rate_limit_per_minute <= 0:
            return None
        return Pace(max(1, round(rate_limit_per_minute * window / 60.0)), window)
    budget = provider_cls.rate_budget
    return Pace(int(budget.calls), float(budget.seconds))


class RateBudget:
    """One connection's budget in Redis. `take()` returns after a slot is ours, or raises RateLimited."""

    def __init__(self, conn: redis.Redis, connection_id: int, pace: Pace | None,
                 max_wait: float = DEFAULT_MAX_WAIT):
        self.redis = conn
        self.key = f"shoal:budget:conn{connection_id}"
        self.pace = pace
        self.max_wait = max_wait
        self.waited = 0.0   # seconds spent waiting for slots (bench/ reports it)
        self._script = conn.register_script(_GCRA)

    def take(self, max_wait: float | None = None) -> None:
        if self.pace is None:
            return
        max_wait = self.max_wait if max_wait is None else max_wait
        tolerance = self.pace.interval * (self.pace.burst - 1)
        granted, wait = self._script(keys=[self.key],
                                       args=[repr(self.pace.interval), repr(tolerance), repr(max_wait)])
        wait_s = float(wait)
        if not int(granted):
            # Not worth holding a worker: the job is re-enqueued for when the slot frees up.
            raise RateLimited(f"rate budget of {self.pace.per_minute:.0f} calls/min in use",
                              retry_after=wait_s + max_wait, status=None)
        if wait_s > 0:
            self.waited += wait_s
            time.sleep(wait_s)

    def mid_job_wait(self) -> float:
        """How long a call after the job's first may wait for its slot (see MID_JOB_MAX_WAIT)."""
        if self.pace is None:
            return self.max_wait
        return max(self.max_wait, min(MID_JOB_MAX_WAIT, 1.5 * self.pace.interval))

    def reset(self) -> None:
        self.redis.delete(self.key)

    def usage(self) -> "Usage":
        """What the budget looks like right now, read without taking a slot (sync health page)."""
        if self.pace is None:
            return Usage(None, 0, 0.0, 0)
        (secs, micros), tat = self.redis.pipeline(transaction=False).time().get(self.key).execute()
        ahead = max(0.0, float(tat or 0) - (secs + micros / 1_000_000))
        wait = max(0.0, ahead - self.pace.interval * (self.pace.burst - 1))
        return Usage(self.pace.per_minute, math.ceil(ahead / self.pace.interval - 1e-9), wait, self.pace.burst)


@dataclass(frozen=True)
class Usage:
    """`reserved` slots are taken ahead of now (0 = idle); `wait` seconds until a new call's slot
    (beyond the `burst` a caller may take at once); `per_minute` None = no limit."""
    per_minute: float | None
    reserved: int
    wait: float
    burst: int


class BudgetedSession(requests.Session):
    """The session handed to an adapter: every HTTP call first takes a slot from the budget.

    `read_timeout` (seconds), if set, caps the adapter's own read timeout, so a hung CRM call fails
    fast as Unavailable and is retried by the sync engine. `calls` counts requests made."""

    def __init__(self, budget: RateBudget, read_timeout: float | None = None):
        super().__init__()
        self.headers["User-Agent"] = USER_AGENT
        self.headers["Accept"] = "application/json"
        # A CRM's credentials come from its connection only: a ~/.netrc on the worker's host must
        # never add its own to CRM calls (requests looks one up for any request without auth).
        self.auth = _no_netrc
        self.budget = budget
        self.read_timeout = read_timeout
        self.calls = 0

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict:
        """requests re-reads the proxy and CA-bundle variables on every call (a copy of the whole
        environment and a no_proxy match each time). A worker's environment doesn't change while
        it runs, so each origin's answer is worked out once per process."""
        if proxies or stream is not None or verify is not None or cert is not None or self.proxies \
                or self.verify is not True or self.cert is not None:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        origin = urlsplit(url)[:2]
        found = _ENV_SETTINGS.get(origin)
        if found is None:
            found = _ENV_SETTINGS[origin] = super().merge_environment_settings(url, {}, None, None, None)
        return {**found, "proxies": dict(found["proxies"])}

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        # The job's first call fails fast (nothing lost by rescheduling); later calls may wait.
        self.budget.take(None if self.calls == 0 else self.budget.mid_job_wait())
        if self.read_timeout:
            kwargs["timeout"] = _capped(kwargs.get("timeout"), self.read_timeout)
        self.calls += 1
        return super().request(method, url, *args, **kwargs)


_ENV_SETTINGS: dict[tuple[str, str], dict[str, Any]] = {}


def _no_netrc(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


def _capped(timeout: Any, cap: float) -> tuple[float, float]:
    if timeout is None:
        return (cap, cap)
    if isinstance(timeout, (int, float)):
        return (min(timeout, cap), min(timeout, cap))
    connect, read = timeout
    return (min(connect or cap, cap), min(read or cap, cap))
