"""What every CRM simulator shares: an in-memory store, fault switches, latency, a rolling rate
window, an inspection route, and a loopback server thread.

A sandbox module builds its app with `make_app(name)` and adds the CRM's own routes, auth and
headers. Admin routes live under `/__sandbox/` (never a path a real CRM uses):

- GET  /__sandbox/state           read-only: every table, the request counts, and `in_flight` /
                                  `peak_in_flight`: CRM calls being served now / at most at once
- POST /__sandbox/faults          {"mode": "401|429|500|503|302|slow|timeout", "count": N, "rate": 0.2,
                                   "delay": 2.0, "seed": 1, "location": URL} — `count` next requests or a
                                  random `rate`; a 3xx mode redirects to `location`
- POST /__sandbox/latency         {"seconds": 0.05} added to every CRM call
- POST /__sandbox/rate_limit      {"calls": 500, "seconds": 3600} (0 calls = unlimited)
- POST /__sandbox/reset           empty the store, clear faults and counters, restore the rate
                                  window make_app was given, then re-seed (`set_seed`)

This module must never import from `providers/` (and providers never import the sandbox), so a
misreading of a wire format in one is caught by the other.
"""
from __future__ import annotations

import copy
import itertools
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask, Response, g, jsonify, request
from werkzeug.serving import make_server


class Store:
    """Thread-safe tables of dict rows keyed by integer ids (ids never reused, like a real DB)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tables: dict[str, dict[int, dict[str, Any]]] = {}
        self._ids = itertools.count(1)

    def insert(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            row = dict(row)
            row["id"] = next(self._ids)
            self.tables.setdefault(table, {})[row["id"]] = row
            return copy.deepcopy(row)

    def get(self, table: str, row_id: Any) -> dict[str, Any] | None:
        with self.lock:
            try:
                row = self.tables.get(table, {}).get(int(row_id))
            except (TypeError, ValueError):
                return None
            return copy.deepcopy(row) if row else None

    def update(self, table: str, row_id: Any, changes: dict[str, Any]) -> dict[str, Any] | None:
        with self.lock:
            row = self.tables.get(table, {}).get(int(row_id))
            if row is None:
                return None
            row.update(changes)
            return copy.deepcopy(row)

    def delete(self, table: str, row_id: Any) -> bool:
        with self.lock:
            return self.tables.get(table, {}).pop(int(row_id), None) is not None

    def all(self, table: str, where: Callable[[dict[str, Any]], bool] | None = None) -> list[dict[str, Any]]:
        with self.lock:
            rows = [r for _, r in sorted(self.tables.get(table, {}).items())]
            return [copy.deepcopy(r) for r in rows if where is None or where(r)]

    def reset(self) -> None:
        with self.lock:
            self.tables.clear()


class RateWindow:
    """A rolling window: at most `calls` per `seconds` per key. `calls == 0` means unlimited."""

    def __init__(self, calls: int = 0, seconds: float = 60.0) -> None:
        self.calls, self.seconds = calls, seconds
        self.lock = threading.Lock()
        self.hits: dict[str, deque[float]] = {}
        self.rejected = 0

    def hit(self, key: str) -> tuple[bool, int, float]:
        """Record a call; return (allowed, remaining, retry_after_seconds)."""
        if not self.calls:
            return True, 1_000_000, 0.0
        now = time.monotonic()
        with self.lock:
            q = self.hits.setdefault(key, deque())
            while q and q[0] <= now - self.seconds:
                q.popleft()
            if len(q) >= self.calls:
                self.rejected += 1
                return False, 0, max(0.001, q[0] + self.seconds - now)
            q.append(now)
            return True, self.calls - len(q), 0.0


@dataclass
class Faults:
    mode: str | None = None
    count: int = 0
    rate: float = 0.0
    delay: float = 2.0
    latency: float = 0.0
    location: str = ""   # where a 3xx fault points (a redirect test: the client must not follow it)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    lock: threading.Lock = field(default_factory=threading.Lock)
    injected: int = 0

    def next_fault(self) -> str | None:
        with self.lock:
            if not self.mode:
                return None
            if self.count > 0:
                self.count -= 1
                if self.count == 0 and not self.rate:
                    mode, self.mode = self.mode, None
                    self.injected += 1
                    return mode
                self.injected += 1
                return self.mode
            if self.rate and self.rng.random() < self.rate:
                self.injected += 1
                return self.mode
            return None


class Sandbox:
    """Per-app sandbox state, reachable as `app.extensions["sandbox"]`."""

    def __init__(self, name: str, rate: RateWindow | None = None) -> None:
        self.name = name
        self.store = Store()
        self.faults = Faults()
        self.rate = rate or RateWindow()
        self.initial_rate = (self.rate.calls, self.rate.seconds)   # what /__sandbox/reset restores
        self.requests = 0
        # CRM calls served right now / at most at once since the last reset: how a test sees a
        # worker keep several calls in flight without timing anything.
        self.in_flight = self.peak_in_flight = 0
        self.generation = 0   # bumped by reset: calls begun before it no longer count
        self.lock = threading.Lock()
        # How an injected fault is rendered; a sandbox replaces this to use its CRM's error body.
        self.error_response: Callable[[int, str], Response] = default_error_response


def default_error_response(status: int, message: str) -> Response:
    resp = jsonify({"message": message})
    resp.status_code = status
    return resp


def sandbox_of(app: Flask) -> Sandbox:
    return app.extensions["sandbox"]


def json_object(error: Exception) -> dict[str, Any]:
    """The request's JSON body when it is an object; otherwise raise `error`, the CRM's own 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise error
    return body


def with_retry_after(resp: Response, retry: float, minimum: int = 1) -> Response:
    """A 429 with `Retry-After` in whole seconds, rounded up so a client that waits it is let in."""
    resp.headers["Retry-After"] = str(max(minimum, int(retry + 0.999)))
    return resp


def set_seed(app: Flask, seed: Callable[[], None]) -> None:
    """Seed the reference data now, and again on every /__sandbox/reset (after the store is
    emptied and the rate window restored). `seed` also restores any option a test may change."""
    app.seed_sandbox = seed  # type: ignore[attr-defined]
    seed()


def answer_routing_errors(app: Flask, not_found: str = "Not Found",
                          not_allowed: str = "Method Not Allowed") -> None:
    """An unknown path (404) or a wrong method (405) answered in the CRM's own error body (the
    sandbox's `error_response`), as the real API does, rather than Flask's HTML page."""
    sb = sandbox_of(app)
    app.register_error_handler(404, lambda _exc: sb.error_response(404, not_found))
    app.register_error_handler(405, lambda _exc: sb.error_response(405, not_allowed))


def make_app(name: str, rate: RateWindow | None = None) -> Flask:
    app = Flask(f"sandbox.{name}")
    sb = Sandbox(name, rate)
    app.extensions["sandbox"] = sb

    @app.before_request
    def _inject() -> Response | None:
        if request.path.startswith("/__sandbox/") or request.blueprint == "webapp":
            return None   # admin routes and the simulated web app (sandbox.webapp) aren't API calls
        with sb.lock:
            sb.requests += 1
            sb.in_flight += 1
            sb.peak_in_flight = max(sb.peak_in_flight, sb.in_flight)
            g.sandbox_counted = sb.generation   # teardown_request runs even when a fault answers
        if sb.faults.latency:
            time.sleep(sb.faults.latency)
        mode = sb.faults.next_fault()
        if mode is None:
            return None
        if mode == "slow":
            time.sleep(sb.faults.delay)
            return None
        if mode == "timeout":
            time.sleep(max(sb.faults.delay, 35.0))   # longer than a client's read timeout
            return sb.error_response(504, "gateway timeout")
        status = int(mode)
        if 300 <= status < 400:
            resp = Response("", status=status, headers={"Location": sb.faults.location or "/"})
            return resp
        resp = sb.error_response(status, {401: "invalid credentials", 429: "too many requests"}.get(
            status, "internal server error"))
        if status == 429:
            resp.headers["Retry-After"] = "1"
        return resp

    @app.teardown_request
    def _done(_exc: BaseException | None) -> None:
        generation = g.pop("sandbox_counted", None)
        if generation is not None:
            with sb.lock:
                if generation == sb.generation:
                    sb.in_flight -= 1

    @app.get("/__sandbox/state")
    def _state() -> Response:
        with sb.store.lock:
            tables = {t: list(rows.values()) for t, rows in sb.store.tables.items()}
        with sb.lock:
            in_flight, peak = sb.in_flight, sb.peak_in_flight
        return jsonify({"name": name, "requests": sb.requests, "rate_limited": sb.rate.rejected,
                        "faults_injected": sb.faults.injected, "in_flight": in_flight,
                        "peak_in_flight": peak, "tables": tables})

    @app.post("/__sandbox/faults")
    def _faults() -> Response:
        body = request.get_json(force=True, silent=True) or {}
        with sb.faults.lock:
            sb.faults.mode = str(body["mode"]) if body.get("mode") else None
            sb.faults.count = int(body.get("count") or 0)
            sb.faults.rate = float(body.get("rate") or 0)
            sb.faults.delay = float(body.get("delay") or 2.0)
            sb.faults.location = str(body.get("location") or "")
            if "seed" in body:
                sb.faults.rng = random.Random(body["seed"])
        return jsonify({"ok": True})

    @app.post("/__sandbox/latency")
    def _latency() -> Response:
        sb.faults.latency = float((request.get_json(force=True, silent=True) or {}).get("seconds") or 0)
        return jsonify({"ok": True})

    @app.post("/__sandbox/rate_limit")
    def _rate_limit() -> Response:
        body = request.get_json(force=True, silent=True) or {}
        sb.rate.calls = int(body.get("calls") or 0)
        sb.rate.seconds = float(body.get("seconds") or 60)
        sb.rate.hits.clear()
        return jsonify({"ok": True})

    @app.post("/__sandbox/reset")
    def _reset() -> Response:
        sb.store.reset()
        sb.faults.mode, sb.faults.count, sb.faults.rate, sb.faults.latency = None, 0, 0.0, 0.0
        sb.rate.hits.clear()
        # A test may have shrunk the budget through /__sandbox/rate_limit.
        sb.rate.calls, sb.rate.seconds = sb.initial_rate
        sb.requests = sb.rate.rejected = sb.faults.injected = 0
        with sb.lock:   # calls begun before (a 35 s "timeout" fault, say) no longer count
            sb.generation += 1
            sb.in_flight = sb.peak_in_flight = 0
        if hasattr(app, "seed_sandbox"):
            app.seed_sandbox()  # type: ignore[attr-defined]
        return jsonify({"ok": True})

    return app


class ServerThread(threading.Thread):
    """Serve a WSGI app on 127.0.0.1 in a daemon thread (port 0 = pick a free one)."""

    def __init__(self, app: Flask, port: int = 0, host: str = "127.0.0.1") -> None:
        super().__init__(daemon=True)
        self.server = make_server(host, port, app, threaded=True)
        self.port = self.server.server_port
        self.base = f"http://{host}:{self.port}"

    def run(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()


def serve_in_thread(app: Flask, port: int = 0) -> ServerThread:
    t = ServerThread(app, port)
    t.start()
    return t
