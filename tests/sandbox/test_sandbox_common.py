"""What `sandbox.common` gives every simulator, checked over sockets on each of them: routing misses
answered in the CRM's own error body (not Flask's HTML page), and /__sandbox/reset restoring the
rate window create_app was given after a test shrank it."""
from __future__ import annotations

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
