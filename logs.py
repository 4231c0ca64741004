"""Logging: one line per record on stdout, JSON in production and plain text under `make run`
(LOG_FORMAT, SHOAL_LOG_FORMAT), each line carrying the context it was logged in: the request id on
the web, the RQ job id (and a push's intent id) in a worker.

`configure()` is called by create_app, never at import time, so every process Shoal runs (gunicorn,
`flask worker`, a CLI command) logs the same way and a test can build an app without side effects.
The context lives in a ContextVar: `bound(job_id=...)` around a job, `init_request_ids(app)` around
a request; every handler formatted here reads it at the time of the call.

A JSON line is an object with `ts`, `level`, `logger`, `message`, the context's fields, anything
passed as `extra=`, and `exc` (the traceback) when there is one. Nothing here knows Shoal's models:
keeping secrets out of messages is the callers' business, and tests/conftest.py checks it.
"""
from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

from flask import Flask, Response, g, request

_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("shoal_log_context", default={})

# An incoming X-Request-ID (from a load balancer or the client) is kept when it looks like an id;
# anything else (too long, spaces, control characters: a log-injection attempt) is replaced.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+=/-]{1,128}")
REQUEST_ID_HEADER = "X-Request-ID"
# Load-balancer probes every few seconds would drown the request log at INFO.
QUIET_PATHS = frozenset({"/healthz", "/readyz"})

# Libraries whose DEBUG lines carry credentials (botocore prints every request's headers, the
# Authorization signature included): at INFO at most, whatever LOG_LEVEL says.
GUARDED_LIBRARIES = ("botocore", "boto3", "s3transfer")

# The attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}

log = logging.getLogger("shoal.web")


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Add `fields` (None values left out) to every line logged inside the block, in this thread."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    out = {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
    out.update(_context.get())
    return out


class JsonFormatter(logging.Formatter):
    """One JSON object per record (non-ASCII kept, anything unserialisable as its str())."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update(_fields(record))
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`make run`'s lines: time, level, logger, [context], message (and the traceback below)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        context = _context.get()
        record.context = " [" + " ".join(f"{k}={v}" for k, v in context.items()) + "]" if context else ""
        try:
            return super().format(record)
        finally:
            del record.context


class StdoutHandler(logging.StreamHandler):
    """A StreamHandler on whatever sys.stdout is when a record is written (as logging's last-resort
    handler does for stderr), so a replaced stdout (a test's capture) is never written after closing.
    `to_stderr()` turns it to stderr, for a command whose stdout is its answer."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        logging.Handler.__init__(self, level)
        self.use_stderr = False

    @property
    def stream(self):   # noqa: ANN201 (a text stream)
        return sys.stderr if self.use_stderr else sys.stdout


def configure(level: str | int = "INFO", fmt: str = "json") -> logging.Handler:
    """Log everything at `level` and above to stdout in `fmt` ("json" or "text"). Idempotent: the
    handler an earlier call installed is replaced, other handlers (a test's) are left alone."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, StdoutHandler)]:
        root.removeHandler(old)
    handler = StdoutHandler()
    handler.setFormatter(TextFormatter() if fmt == "text" else JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in GUARDED_LIBRARIES:
        logging.getLogger(name).setLevel(logging.INFO if root.level < logging.INFO else logging.NOTSET)
    return handler


class ShoalFlask(Flask):
    """Flask, except that an unhandled exception's log line names the route's rule, not the path
    (Flask's own line names `request.path`, and reset and invite links carry their token in it)."""

    def log_exception(self, exc_info) -> None:   # noqa: ANN001 (sys.exc_info()'s triple)
        rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
        self.logger.error("Exception on %s [%s]", rule, request.method, exc_info=exc_info)


def to_stderr() -> None:
    """Send the log lines to stderr from now on: for a CLI command that prints its answer on stdout
    (`flask crm ... ` prints JSON a script reads)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, StdoutHandler):
            handler.use_stderr = True


def init_request_ids(app: Flask) -> None:
    """Give every request an id (a sane incoming X-Request-ID, else a new one), bind it to every line
    logged while the request runs, return it in the response's X-Request-ID, and log one line per
    request. The line names the route's rule (`/reset/<token>`), never the path or query string:
    invite and reset links carry their token in the path."""

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()
        g.request_log_token = _context.set({**_context.get(), "request_id": g.request_id})

    @app.after_request
    def _finish(resp: Response) -> Response:
        request_id = g.get("request_id")
        if request_id is None:   # a request another before_request answered before ours ran
            return resp
        resp.headers[REQUEST_ID_HEADER] = request_id
        rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
        ms = round((time.perf_counter() - g.request_started) * 1000, 1)
        log.log(logging.DEBUG if request.path in QUIET_PATHS else logging.INFO,
                "%s %s %s", request.method, rule, resp.status_code,
                extra={"method": request.method, "route": rule, "status": resp.status_code,
                       "duration_ms": ms})
        return resp

    @app.teardown_request
    def _forget(_exc: BaseException | None) -> None:
        token = g.pop("request_log_token", None)
        if token is None:
            return
        try:
            _context.reset(token)
        except ValueError:   # torn down in another context than it started in (a test client's `with`)
            _context.set({k: v for k, v in _context.get().items() if k != "request_id"})
