"""Retry policy (DESIGN §5 rule 10, §6 typed errors), pure: what to do after a CRM call failed.

The runtime maps the adapter's typed error to a kind (AuthError → "auth", RateLimited → "rate_limited",
Unavailable → "unavailable", Rejected → "rejected", NotFound → "not_found", NotSupported →
"not_supported") and asks `decide`. Every decision carries a reason for the audit log; none is silent.

    d = decide("unavailable", attempt=3, rng=random.Random(7))
    d.action, round(d.delay)      # ("retry", 7): 8 s ceiling, up to 25 % jitter below it
"""
from __future__ import annotations

import random
from dataclasses import dataclass

MAX_ATTEMPTS = 8          # attempts in all (the first try included) before an intent is parked
BASE_DELAY = 2.0          # seconds before the first retry
MAX_DELAY = 600.0         # never wait longer than this between two attempts
JITTER_FRACTION = 0.25    # spread retries of many intents so they don't hit the CRM together

RETRY = "retry"                      # run the intent again after `delay` seconds
PARK = "park"                        # give up; shown on the intent and the connection's health
NEEDS_ATTENTION = "needs_attention"  # credentials rejected: mark the connection at once, no retry
REFUSED = "refused"                  # the CRM said no (validation, unsupported): show it, don't retry
RELINK = "relink"                    # the linked record is gone: drop the CrmLink and re-plan now

ERROR_KINDS: tuple[str, ...] = ("auth", "rate_limited", "unavailable", "rejected", "not_found",
                                "not_supported")


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


@dataclass(frozen=True)
class RetryDecision:
    action: str
    delay: float | None
    reason: str


def decide(error_kind: str, attempt: int, *, retry_after: float | None = None,
           max_attempts: int = MAX_ATTEMPTS, rng: random.Random | None = None) -> RetryDecision:
    """What to do after attempt number `attempt` (1 = the first try) failed with `error_kind`.

    Rate limits wait at least the CRM's Retry-After; outages back off exponentially; both park
    the intent once `max_attempts` attempts have failed. Auth failures never retry."""
    if error_kind == "auth":
        return RetryDecision(NEEDS_ATTENTION, None,
                             "The CRM rejected the credentials; the connection needs attention")
    if error_kind == "rejected":
        return RetryDecision(REFUSED, None, "The CRM rejected the data; fix the fields shown and retry")
    if error_kind == "not_supported":
        return RetryDecision(REFUSED, None, "The CRM's API doesn't support this operation")
    if error_kind == "not_found":
        return RetryDecision(RELINK, 0.0, "The linked CRM record no longer exists; looking the person up again")
    if error_kind not in ("rate_limited", "unavailable"):
        raise ValueError(f"unknown error kind {error_kind!r}")
    if attempt >= max_attempts:
        return RetryDecision(PARK, None, f"Gave up after {attempt} attempts: the CRM kept "
                             + ("rate-limiting" if error_kind == "rate_limited" else "failing"))
    delay = backoff(attempt, rng=rng)
    if error_kind == "rate_limited":
        if retry_after is not None and retry_after > delay:
            delay = float(retry_after)
        return RetryDecision(RETRY, delay, f"Rate-limited by the CRM; retry {attempt} in {delay:.0f}s")
    return RetryDecision(RETRY, delay, f"The CRM is unavailable; retry {attempt} in {delay:.0f}s")
