"""The shared per-connection rate budget: pace arithmetic, one budget across workers through Redis,
in-process waits only for short gaps, and a backlog draining under a sandbox's budget without 429s."""
from __future__ import annotations

import time

import pytest
import requests
from sync_support import campaign, connect, intents, profile, sandbox_state

from core import get_redis
from providers import get_provider
from providers.errors import RateLimited
from services import enrolments
from services.rate_budget import BudgetedSession, Pace, RateBudget, pace_for


@pytest.mark.parametrize("calls,seconds", [(500, 3600), (10, 1), (100, 60), (300, 60), (40, 5)])
def test_any_window_of_the_crm_sees_fewer_calls_than_its_budget(calls, seconds):
    pace = Pace(calls, seconds)
    most_in_a_window = pace.burst + int(seconds / pace.interval + 1e-9)
    assert most_in_a_window <= calls - 1        # one call of slack for slot-to-arrival jitter
    if calls >= 40:
        assert pace.per_minute >= 0.9 * calls * 60 / seconds


def test_override_wins_over_the_documented_budget_and_zero_means_unlimited():
    cats = get_provider("cats")
    assert pace_for(cats, None) == Pace(cats.rate_budget.calls, cats.rate_budget.seconds)
    assert pace_for(cats, 120) == Pace(120, 60.0)
    assert pace_for(cats, 120, window=10) == Pace(20, 10)
    assert pace_for(cats, 0) is None


def test_two_workers_share_one_budget_and_the_second_is_told_when_to_come_back():
    pace = Pace(60, 60)                     # burst 1, then one call every ~1.05 s
    a = RateBudget(get_redis(), 7, pace, max_wait=0)
    b = RateBudget(get_redis(), 7, pace, max_wait=0)
    a.take()
    with pytest.raises(RateLimited) as exc:
        b.take()
    assert 0 < exc.value.retry_after <= pace.interval + 0.01
    RateBudget(get_redis(), 8, pace, max_wait=0).take()   # another connection has its own budget


def test_a_short_gap_is_waited_for_in_process():
    pace = Pace(20, 4)                       # one call every ~0.21 s
    budget = RateBudget(get_redis(), 9, pace, max_wait=1.0)
    started = time.monotonic()
    for _ in range(pace.burst + 3):
        budget.take()
    assert time.monotonic() - started >= 3 * pace.interval - 0.05


def test_the_session_takes_a_slot_per_call_and_caps_the_read_timeout(sandbox):
    server = sandbox("cats")
    budget = RateBudget(get_redis(), 10, Pace(60, 60), max_wait=0)
    session = BudgetedSession(budget, read_timeout=0.5)
    assert session.get(f"{server.base}/__sandbox/state", timeout=(5, 30)).status_code == 200
    assert session.calls == 1
    # Another job's first call is told to come back later instead of holding its worker ...
    with pytest.raises(RateLimited):
        BudgetedSession(budget).get(f"{server.base}/__sandbox/state")
    # ... while this job, already under way, waits for its next slot rather than lose its progress.
    assert session.get(f"{server.base}/__sandbox/state").status_code == 200
    assert session.calls == 2 and budget.waited > 0
    requests.post(f"{server.base}/__sandbox/faults", json={"mode": "slow", "count": 1, "delay": 2.0}, timeout=5)
    fast = BudgetedSession(RateBudget(get_redis(), 11, None), read_timeout=0.3)
    with pytest.raises(requests.Timeout):
        fast.get(f"{server.base}/v3/tags", timeout=(5, 30))


def test_a_slow_budget_still_makes_progress_job_after_job(sandbox):
    """One call per ~2 s with no burst: every two-call job gets through (its second call waits),
    where failing the second call would make each retry spend a slot and never finish."""
    server = sandbox("cats")
    budget = RateBudget(get_redis(), 12, Pace(31, 60), max_wait=0)
    done = 0
    for _ in range(2):
        session = BudgetedSession(budget)
        while True:
            try:
                session.get(f"{server.base}/__sandbox/state")
                session.get(f"{server.base}/__sandbox/state")
                break
            except RateLimited as exc:
                assert session.calls == 0          # refused before it spent anything
                time.sleep(exc.retry_after)
        done += 1
    assert done == 2


def test_a_backlog_drains_at_the_budget_without_a_single_429(app, make_user, sandbox, run_worker, monkeypatch):
    server = sandbox("cats")
    # The sandbox enforces 40 calls per rolling 5 s; the connection is set to the same budget.
    requests.post(f"{server.base}/__sandbox/rate_limit", json={"calls": 40, "seconds": 5}, timeout=5)
    monkeypatch.setitem(app.config, "RATE_BUDGET_WINDOW_SECONDS", 5)
    user = make_user("recruiter")
    connect(user, "cats", server, rate_limit_per_minute=480)
    camp = campaign(user)
    for n in range(30):
        enrolments.enrol(user, camp, profile(100 + n))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(i.state != "synced" for i in intents()):
        run_worker()
    state = sandbox_state(server)
    assert [i.state for i in intents()] == ["synced"] * 30
    assert state["requests"] > 40            # more than one window's worth: the budget was binding
    assert state["rate_limited"] == 0
