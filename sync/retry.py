"""The failure policy (DESIGN §5 rule 10, §6 typed errors), pure: what happens to an intent whose run
failed. `services/push/failures.py` maps the adapter's typed error to a kind, asks `decide`, and
applies the answer; no other code decides a retry, a park or a ceiling.

Kinds: "auth" (AuthError), "rate_limited" (the CRM answered 429), "paced" (our own rate budget said
wait: never counts), "unavailable" (5xx, timeout), "internal" (a bug or a bad row: treated as an
outage so it is never lost), "not_found" (the linked record is gone: look again at once),
"rejected" and "not_supported" (the CRM said no).

Ceilings: outages park after `max_attempts` attempts in all; a CRM that keeps answering 429 parks
after `max_rate_limited` 429s (higher: a busy CRM is normal). A 429 counts as an attempt too.

    d = decide("unavailable", attempts=2, rng=random.Random(7))
    d.action, round(d.delay), d.count_attempt      # ("retry", 4, True): the 3rd attempt failed
"""
from __future__ import annotations

import random
from dataclasses import dataclass

MAX_ATTEMPTS = 8          # attempts in all (the first try included) before an intent is parked
MAX_RATE_LIMITED = 30     # CRM 429s before an intent is parked
BASE_DELAY = 2.0          # seconds before the first retry
MAX_DELAY = 600.0         # never wait longer than this between two attempts
JITTER_FRACTION = 0.25    # spread retries of many intents so they don't hit the CRM together
MIN_DELAY = 0.05          # a Retry-After of 0 still goes through the scheduler, not a hot loop

RETRY = "retry"                      # run the intent again after `delay` seconds
PARK = "park"                        # give up; shown on the intent and the connection's health
NEEDS_ATTENTION = "needs_attention"  # credentials rejected: mark the connection at once, no retry
REFUSED = "refused"                  # the CRM said no (validation, unsupported): park with its message
RELINK = "relink"                    # the linked record is gone: look the person up again at once

ERROR_KINDS: tuple[str, ...] = ("auth", "rate_limited", "paced", "unavailable", "internal", "not_found",
                                "rejected", "not_supported")


@dataclass(frozen=True)
class RetryPolicy:
    """The operator's knobs (config SYNC_MAX_ATTEMPTS, SYNC_MAX_RATE_LIMITED, SYNC_BACKOFF_*)."""
    max_attempts: int = MAX_ATTEMPTS
    max_rate_limited: int = MAX_RATE_LIMITED
    base_delay: float = BASE_DELAY
    max_delay: float = MAX_DELAY


@dataclass(frozen=True)
class RetryDecision:
    action: str
    delay: float | None
    reason: str
    count_attempt: bool = False        # add one to SyncIntent.attempts
    count_rate_limited: bool = False   # add one to SyncIntent.rate_limited


def backoff(attempt: int, base: float = BASE_DELAY, cap: float = MAX_DELAY,
            jitter_fraction: float = JITTER_FRACTION, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number `attempt` (1 = the first retry).

    Exponential (base, 2·base, 4·base, ...) capped at `cap`, then jittered *down* by up to
    `jitter_fraction`, so the result always lies in [ceiling·(1 − jitter_fraction), ceiling]."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    if not 0 <= jitter_fraction <= 1:
        raise ValueError("jitter_fraction must be within [0, 1]")
    # Past 2**60 the float would be absurd anyway; the cap applies long before.
    ceiling = cap if attempt > 60 else min(cap, base * 2 ** (attempt - 1))
    r = (rng or random).random()
    return ceiling * (1 - jitter_fraction * r)


def decide(kind: str, *, attempts: int, rate_limited: int = 0, retry_after: float | None = None,
           message: str = "", policy: RetryPolicy = RetryPolicy(),
           rng: random.Random | None = None) -> RetryDecision:
    """What to do after a run failed with `kind`, given the failed `attempts` and CRM 429s
    (`rate_limited`) the intent had before this one. Every decision carries the reason shown."""
    if kind not in ERROR_KINDS:
        raise ValueError(f"unknown error kind {kind!r}")
    detail = message or kind.replace("_", " ")
    attempt = attempts + 1
    if kind == "auth":
        return RetryDecision(NEEDS_ATTENTION, None, detail)
    if kind in ("rejected", "not_supported"):
        return RetryDecision(REFUSED, None, detail)
    if kind == "paced":   # our own budget: wait for the next slot, count nothing
        return RetryDecision(RETRY, max(retry_after or 0.0, MIN_DELAY), f"rate limited: {detail}")
    if kind == "rate_limited":
        limited = rate_limited + 1
        if limited >= policy.max_rate_limited:
            return RetryDecision(PARK, None, f"the CRM kept answering 429 (rate limited) after {limited} "
                                 "attempts: its budget may be shared with another integration; lower this "
                                 "connection's rate budget or retry later", True, True)
        return RetryDecision(RETRY, max(retry_after or 0.0, MIN_DELAY),
                             f"rate limited (attempt {attempt}): {detail}", True, True)
    # unavailable, internal, not_found: outages and surprises share the attempts ceiling.
    if attempt >= policy.max_attempts:
        return RetryDecision(PARK, None, f"gave up after {attempt} attempts: {detail}", True)
    if kind == "not_found":
        return RetryDecision(RELINK, 0.0, f"retrying (attempt {attempt}): {detail}", True)
    delay = backoff(attempt, base=policy.base_delay, cap=policy.max_delay, rng=rng)
    return RetryDecision(RETRY, delay, f"retrying (attempt {attempt}): {detail}", True)
