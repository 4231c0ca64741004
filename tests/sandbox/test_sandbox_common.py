"""What `sandbox.common` gives every simulator, checked over sockets on each of them: routing misses
answered in the CRM's own error body (not Flask's HTML page), /__sandbox/reset restoring the
rate window create_app was given after a test shrank it, and the count of CRM calls in flight."""
from __future__ import annotations

import threading
import time

import pytest
import requests

from sandbox.common import serve_in_thread

# key → (body text of a 404, body text of a 405) in that CRM's envelope
ROUTING = {
    "cats": ("Not Found", "Method Not Allowed"),
    "itris": ("Resource not found.", "Method not allowed."),
    "smartrecruiters": ("Not Found", "Method Not Allowed"),
    "tracker": ("Not Found", "Method Not Allowed"),
}


def _counts(tables: dict) -> dict[str, int]:
    return {name: len(rows) for name, rows in tables.items()}


@pytest.mark.parametrize("key", sorted(ROUTING))
def test_routing_misses_come_back_in_the_crms_error_body(sandbox, key):
    server = sandbox(key)
    missing = requests.get(f"{server.base}/__sandbox/no-such-route", timeout=5)
    wrong_method = requests.delete(f"{server.base}/__sandbox/state", timeout=5)
    for resp, status, text in ((missing, 404, ROUTING[key][0]), (wrong_method, 405, ROUTING[key][1])):
        assert resp.status_code == status and "json" in resp.headers["Content-Type"]
        assert text in resp.text and "<html" not in resp.text.lower()


@pytest.mark.parametrize("key", ["cats", "itris", "pinpoint", "smartrecruiters", "tracker"])
def test_reset_restores_the_rate_window_and_reseeds(key):
    module = __import__(f"sandbox.{key}", fromlist=["create_app"])
    app = module.create_app(rate_calls=7, rate_seconds=11)
    server = serve_in_thread(app)
    try:
        seeded = requests.get(f"{server.base}/__sandbox/state", timeout=5).json()["tables"]
        requests.post(f"{server.base}/__sandbox/rate_limit", json={"calls": 1, "seconds": 5},
                      timeout=5).raise_for_status()
        rate = app.extensions["sandbox"].rate
        assert (rate.calls, rate.seconds) == (1, 5)
        requests.post(f"{server.base}/__sandbox/reset", timeout=5).raise_for_status()
        assert (rate.calls, rate.seconds) == (7, 11)
        again = requests.get(f"{server.base}/__sandbox/state", timeout=5).json()["tables"]
        assert seeded and _counts(again) == _counts(seeded)
    finally:
        server.stop()


def test_state_counts_crm_calls_in_flight_and_their_peak_until_reset():
    """Three CRM calls held open by the sandbox's latency are in flight together; the admin routes
    polled meanwhile are not counted; the peak outlives the calls and a reset clears it.

    A sandbox of its own: the session's shared one may still be serving an earlier test's slow
    call (a fault that holds the answer past the client's timeout), which would count here."""
    from sandbox import cats

    server = serve_in_thread(cats.create_app())
    try:
        _count_calls_in_flight(server)
    finally:
        server.stop()


def _count_calls_in_flight(server) -> None:
    state = f"{server.base}/__sandbox/state"
    requests.post(f"{server.base}/__sandbox/latency", json={"seconds": 2.0}, timeout=5).raise_for_status()
    calls = [threading.Thread(target=requests.get, args=(f"{server.base}/v3/site",),
                              kwargs={"headers": {"Authorization": "Token cats-sandbox-key"}, "timeout": 10})
             for _ in range(3)]
    for t in calls:
        t.start()
    deadline = time.monotonic() + 10   # a safety net, not an assertion: the calls are all held open
    while requests.get(state, timeout=5).json()["in_flight"] < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    during = requests.get(state, timeout=5).json()
    for t in calls:
        t.join()
    after = requests.get(state, timeout=5).json()
    assert (during["in_flight"], during["peak_in_flight"]) == (3, 3)
    assert (after["in_flight"], after["peak_in_flight"], after["requests"]) == (0, 3, 3)
    requests.post(f"{server.base}/__sandbox/reset", timeout=5).raise_for_status()
    assert requests.get(state, timeout=5).json()["peak_in_flight"] == 0
    requests.get(f"{server.base}/v3/site", headers={"Authorization": "Token wrong"}, timeout=5)
    counted = requests.get(state, timeout=5).json()
    assert (counted["in_flight"], counted["peak_in_flight"]) == (0, 1)   # a refused call counts too
    # A call still being served when the sandbox is reset (an earlier test's) stops counting.
    requests.post(f"{server.base}/__sandbox/latency", json={"seconds": 1.0}, timeout=5).raise_for_status()
    old = threading.Thread(target=requests.get, args=(f"{server.base}/v3/site",),
                           kwargs={"headers": {"Authorization": "Token cats-sandbox-key"}, "timeout": 10})
    old.start()
    while requests.get(state, timeout=5).json()["in_flight"] < 1:
        time.sleep(0.02)
    requests.post(f"{server.base}/__sandbox/reset", timeout=5).raise_for_status()
    old.join()
    fresh = requests.get(state, timeout=5).json()
    assert (fresh["in_flight"], fresh["peak_in_flight"]) == (0, 0)
