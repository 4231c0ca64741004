"""No credential in any log line (issue #10, part 5), checked over the whole test run.

Every record logged anywhere in the test process, at DEBUG, by every logger (ours, RQ, urllib3,
SQLAlchemy, ...; not the far side's, FAR_SIDE) is written through logs.JsonFormatter, tracebacks
included, to one file; the worker subprocesses some tests start write their logs to `*.log` files
in their tmp_path, which are read too. Every secret the suite uses is recorded as it
passes, without touching Shoal:

- each request any Flask app in the process answers: Shoal's pages and API (passwords, tokens, the
  session cookie), and the CRM sandboxes, which receive exactly what Shoal sends a CRM (API keys,
  bearer tokens, logins): credential headers, cookies, and URL parts, query, form and JSON fields
  named like a credential (Flask's request_finished signal; a body only if the view parsed it);
- each encrypted value written to the database, decrypted (SQLAlchemy's before_cursor_execute):
  the secret fields of CRM credentials, mailbox passwords, inbound-mail secrets;
- SECRET_KEY and CREDENTIALS_KEY, the sandboxes' credentials and OAuth client, and anything a test
  hands to `record_secret`.

At the end of the session a secret found in any of those logs fails the run (exit status 1), named
by its label and the test that first used it, never by its value. tests/security/test_log_secrets.py
drives the likeliest leaks directly.
"""
from __future__ import annotations

import base64
import binascii
import importlib
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import has_app_context, request, request_finished
from sqlalchemy import event
from sqlalchemy.engine import Engine

import logs

MIN_LENGTH = 8   # shorter values ("uk", "pw") would match ordinary words in ordinary lines
SECRET_NAME = re.compile(r"(^|[_-])(password|passwd|secret|token|api[_-]?key|apikey|smarttoken)$", re.I)
NOT_SECRET = {"csrf_token"}   # a form's CSRF token is no credential, and is never logged either
CREDENTIAL_HEADERS = {"authorization", "x-smarttoken", "x-shoal-secret", "x-api-key", "api-key"}
# The far side's logs, not Shoal's: werkzeug's request lines are the development server's (the CRM
# sandboxes' and the browser tests' live server; production runs gunicorn, whose access log is off)
# and name the path, where reset, invite and unsubscribe links carry their token; mail.log is the
# test SMTP server's own transcript of what it received.
FAR_SIDE = ("werkzeug", "mail.log")
SESSION_COOKIES = {"session", "remember_token"}

_secrets: dict[str, str] = {}          # value -> label ("form field password (tests/...::test_x)")
_state: dict[str, Any] = {"handler": None, "path": None, "extra_dirs": [], "found": []}


def record_secret(value: Any, label: str) -> None:
    """Remember `value` as a secret that must never be logged (ignored if not a long enough str)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return
    value = value.strip()   # a stray line break or space around a secret is no part of it
    if len(value) < MIN_LENGTH or value in _secrets:
        return
    test = os.environ.get("PYTEST_CURRENT_TEST", "session setup").rsplit(" (", 1)[0]
    _secrets[value] = f"{label} (first used in {test})"


def _is_secret_name(name: str) -> bool:
    return name.lower() not in NOT_SECRET and bool(SECRET_NAME.search(name))


def _record_fields(values: Any, where: str) -> None:
    """Secret-named fields of a dict, at any depth (lists of dicts too)."""
    if isinstance(values, list):
        for value in values:
            _record_fields(value, where)
    elif isinstance(values, dict):
        for key, value in values.items():
            if isinstance(value, (dict, list)):
                _record_fields(value, where)
            elif isinstance(key, str) and _is_secret_name(key):
                record_secret(value, f"{where} {key}")


def _record_header(name: str, value: str) -> None:
    scheme, _, rest = value.partition(" ")
    if name.lower() == "authorization" and rest:
        record_secret(rest.strip(), f"header Authorization ({scheme})")
        if scheme.lower() == "basic":
            try:
                user_pass = base64.b64decode(rest.strip(), validate=True).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                return
            record_secret(user_pass.partition(":")[2], "header Authorization (basic password)")
    else:
        record_secret(value, f"header {name}")


def _on_request_finished(sender: Any, **_extra: Any) -> None:
    for name, value in request.headers.items():
        if name.lower() in CREDENTIAL_HEADERS or _is_secret_name(name):
            _record_header(name, value)
    for name in SESSION_COOKIES:
        record_secret(request.cookies.get(name), f"cookie {name}")
    _record_fields(request.args.to_dict(), "query field")
    _record_fields(request.view_args or {}, "URL part")   # /reset/<token>, /unsubscribe/<token>
    form = request.__dict__.get("form")   # only what the view parsed: reading a body here could eat it
    if form is not None:
        _record_fields(form.to_dict(), "form field")
    cached_json = getattr(request, "_cached_json", (Ellipsis, Ellipsis))
    for parsed in cached_json:
        if parsed is not Ellipsis:
            _record_fields(parsed, "JSON field")


def _fernet_keys() -> MultiFernet | None:
    settings = [os.environ.get("CREDENTIALS_KEY") or ""]
    if has_app_context():
        from flask import current_app

        settings.append(str(current_app.config.get("CREDENTIALS_KEY") or ""))
    keys = []
    for setting in settings:
        for part in setting.split(","):
            try:
                keys.append(Fernet(part.strip()))
            except (ValueError, TypeError):
                continue
    return MultiFernet(keys) if keys else None


def _on_execute(conn, cursor, statement, parameters, context, executemany) -> None:   # noqa: ANN001
    rows = parameters if executemany else [parameters]
    for row in rows or ():
        values = row.values() if isinstance(row, dict) else (row if isinstance(row, (list, tuple)) else ())
        for value in values:
            if isinstance(value, memoryview):
                value = value.tobytes()
            if isinstance(value, (bytes, str)) and (value[:6] in (b"gAAAAA", "gAAAAA")):
                _record_encrypted(value.encode() if isinstance(value, str) else value)


def _record_encrypted(blob: bytes) -> None:
    fernet = _fernet_keys()
    if fernet is None:
        return
    try:
        plain = fernet.decrypt(blob).decode("utf-8", "replace")
    except InvalidToken:
        return
    try:
        data = json.loads(plain)
    except ValueError:
        record_secret(plain, "stored encrypted value")
        return
    _record_fields(data, "stored credential") if isinstance(data, dict) else record_secret(data, "stored value")


def _record_known() -> None:
    for name in ("SECRET_KEY", "CREDENTIALS_KEY"):
        for part in (os.environ.get(name) or "").split(","):
            record_secret(part.strip(), f"environment {name}")
    from providers import PROVIDER_KEYS

    for key in PROVIDER_KEYS:
        module = importlib.import_module(f"sandbox.{key}")
        _record_fields(getattr(module, "DEFAULT_CREDENTIALS", {}), f"{key} sandbox credential")
        _record_fields(getattr(module, "OAUTH_CLIENT", {}), f"{key} sandbox OAuth client")


def start() -> Path:
    """Log everything at DEBUG to a file and start recording secrets (pytest_sessionstart)."""
    fd, name = tempfile.mkstemp(prefix="shoal-test-logs-", suffix=".jsonl")
    os.close(fd)
    handler = logging.FileHandler(name, encoding="utf-8")
    handler.setFormatter(logs.JsonFormatter())
    handler.setLevel(logging.DEBUG)
    handler.addFilter(lambda record: not record.name.startswith(FAR_SIDE))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    _state.update(handler=handler, path=Path(name))
    request_finished.connect(_on_request_finished)
    event.listen(Engine, "before_cursor_execute", _on_execute)
    _record_known()
    return Path(name)


def also_read(folder: Path) -> None:
    """Read the `*.log` files in each test's tmp_path under `folder` (the session's tmp folder) too:
    the worker subprocesses' logs. (Deeper ones are not logs: Chrome's profile has LevelDB `.log`s.)"""
    _state["extra_dirs"].append(folder)


def finish() -> list[str]:
    """Stop logging to the file and return one line per secret found in the logs (label, where)."""
    handler = _state["handler"]
    if handler is None:
        return []
    logging.getLogger().removeHandler(handler)
    handler.close()
    request_finished.disconnect(_on_request_finished)
    event.remove(Engine, "before_cursor_execute", _on_execute)
    texts = {"the test process's log": _state["path"].read_text(encoding="utf-8", errors="replace")}
    for folder in _state["extra_dirs"]:
        for path in sorted(Path(folder).glob("*/*.log")):   # a test's own tmp_path/<name>.log
            texts[str(path.relative_to(folder))] = path.read_text(encoding="utf-8", errors="replace")
    found: dict[str, dict[str, int]] = {}   # label -> where -> lines
    for secret, label in _secrets.items():
        forms = {secret, json.dumps(secret, ensure_ascii=False)[1:-1]}
        for where, text in texts.items():
            if any(f in text for f in forms):
                lines = sum(any(f in line for f in forms) for line in text.splitlines())
                found.setdefault(label, {}).setdefault(where, 0)
                found[label][where] += lines
    report = [f"{label}: in {', '.join(f'{where} (lines: {n})' for where, n in places.items())}"
              for label, places in found.items()]
    if not report:
        _state["path"].unlink(missing_ok=True)
    return report


def log_path() -> Path | None:
    return _state["path"]
