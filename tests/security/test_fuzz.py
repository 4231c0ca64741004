"""A seeded fuzz run: malformed requests to every route that takes a body (POST, PUT, PATCH, DELETE)
and to every GET of the panel and the JSON API (and a few query strings to every page), as team A's admin (who gets past every permission
check, so the body reaches the parsers). Wrong types, 1 MB strings, nulls, lists where scalars go,
lone surrogates, NUL bytes, invalid UTF-8, markup, huge and negative ids, 5,000-deep JSON, empty
bodies and the wrong content types. No answer may be a 5xx (or an exception), and no 4xx may carry
a traceback or a database's own words.

The same seed gives the same requests: a failure names the request, and rerunning reproduces it.
Run it on PostgreSQL too (DATABASE_URL), where NUL bytes and integer overflow behave differently."""
from __future__ import annotations

import itertools
import json
import random
from dataclasses import replace
from typing import Any, Iterator
from urllib.parse import urlencode

import pytest

from route_table import routes, url_for_rule
from route_world import build, configure
from test_route_table import ROUTES

SEED = 20261203
PER_ROUTE = 12
BIG = "x" * 1_000_000
DEEP = "[" * 5000 + "]" * 5000
FIELDS = ("name", "email", "value", "kind", "campaign_id", "person_id", "enrolment_id", "note", "to", "role",
          "sid", "remote_id", "confirm", "direction", "password", "label", "first_name", "linkedin_url",
          "base_url", "subdomain", "api_key", "sync_as", "profile", "fields", "tags", "page", "q", "sync_options",
          "company_choice", "body", "occurred_at", "limit", "offset", "cursor", "record_type", "status")
VALUES: tuple[Any, ...] = (
    "", None, 0, -1, -2**31, 2**31, 2**63, 10**30, 1.5, "1e3", "NaN", "Infinity", True, [], {}, [1, 2],
    {"a": {"b": [None]}}, BIG, "\x00", "a\x00b", "\ud800", "x\udfffy", "😀" * 50, "\u202eevil", "a" * 5000,
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "' OR 1=1 --", "../../etc/passwd",
    "http://[", "https://[::1", "%00", "{{7*7}}", "\r\nBcc: x@example.com", "-1", "99999999999999999999",
)
PATH_VALUES = ("0", "-1", str(2**31), str(2**63), str(10**30), "%5B", "%00", "..%2F..%2Fetc", "%ED%A0%80", "9" * 5000)
ARGS = ("campaign_id", "person_id", "import_id", "step_id", "run_id", "connection_id", "message_id", "intent_id",
        "entry_id", "cv_id", "enrolment_id", "event_id", "user_id", "token_id", "key", "sid", "which", "section",
        "token", "action", "filename")
LEAKS = ("Traceback (most recent call last)", 'File "/', "sqlalchemy", "psycopg", "IntegrityError",
         "OperationalError", "DataError", "UnicodeEncodeError", "KeyError", "TypeError", "AttributeError")


def _fuzzed_routes() -> list[tuple[str, str]]:
    """Every route: bodies for POST and the rest, query strings for GET (fewer for pages: see
    `_count`)."""
    return [(endpoint, method) for endpoint, rows in ROUTES.items() for method in rows]


def _count(endpoint: str, method: str) -> int:
    """Requests per route: PER_ROUTE where a body or the panel/API is parsed, 3 for a page's GET."""
    return PER_ROUTE if method != "GET" or endpoint.startswith(("panel.", "api_", "api-docs")) else 3


def _form_bytes(fields: dict[str, Any]) -> bytes:
    """A urlencoded body that may hold what no browser sends: lone surrogates, invalid UTF-8, lists."""
    pairs = []
    for key, value in fields.items():
        if value is None:
            continue
        for item in (value if isinstance(value, list) else [value]):
            pairs.append((key, item if isinstance(item, (str, bytes)) else json.dumps(item)))
    return urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode()


def _shape(endpoint: str, method: str) -> dict[str, Any]:
    row = ROUTES[endpoint][method]
    base = row.json if isinstance(row.json, dict) else (row.form or {})
    return {k: v for k, v in base.items() if isinstance(v, (str, int, list, dict))}


def requests_for(endpoint: str, method: str, rng: random.Random) -> Iterator[tuple[str, dict[str, Any]]]:
    """(what, kwargs for the test client's open) for one route: body-wide breakage, then fields."""
    shape = _shape(endpoint, method)
    form = "application/x-www-form-urlencoded"
    whole = [
        ("empty form", {"data": b"", "content_type": form}),
        ("empty json", {"data": b"", "content_type": "application/json"}),
        ("broken json", {"data": b'{"a": ', "content_type": "application/json"}),
        ("json list", {"data": b"[1, 2, 3]", "content_type": "application/json"}),
        ("json null", {"data": b"null", "content_type": "application/json"}),
        ("deep json", {"data": DEEP.encode(), "content_type": "application/json"}),
        ("json as text/plain", {"data": json.dumps(shape).encode(), "content_type": "text/plain"}),
        ("invalid utf-8 form", {"data": b"name=%FF%FE%FD&email=%C0%AF", "content_type": form}),
        ("garbage multipart", {"data": b"--x\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"a\"\r\n\r\n"
                                       b"\x00\x01--", "content_type": "multipart/form-data; boundary=x"}),
        ("xml", {"data": b"<?xml version='1.0'?><a>&lol;</a>", "content_type": "application/xml"}),
        ("odd headers", {"data": json.dumps(shape).encode(), "content_type": "application/json", "headers": {
            "Idempotency-Key": rng.choice(("k" * 5000, "\u00e9\u00e9", "", "a b")), "HX-Request": "true",
            "HX-Current-URL": "http://[", "Origin": "chrome-extension://" + "x" * 3000, "Accept": "*/*;q=x"}}),
        ("mangled token", {"data": json.dumps(shape).encode(), "content_type": "application/json", "headers": {
            "Authorization": rng.choice(("Bearer " + "t" * 10000, "Bearer \u00e9", "Bearer", "Basic Og==",
                                         "Bearer a b c")), "X-Shoal-Secret": "s" * 5000}}),
    ]
    for what, kw in rng.sample(whole, 3):
        yield what, kw
    keys = list(shape) or list(FIELDS)
    for _ in range(PER_ROUTE - 3):
        body = json.loads(json.dumps(shape))
        # Mostly one bad field among good ones (so the rest of the route runs), sometimes three.
        for key in rng.sample(keys + list(FIELDS), rng.choice((1, 1, 1, 3))):
            target = body
            if isinstance(body.get(key), dict) and body[key] and rng.random() < 0.7:
                target, key = body[key], rng.choice(list(body[key]))   # a field inside (the panel's profile)
            target[key] = rng.choice(VALUES)
        if rng.random() < 0.5:
            yield f"json {body}"[:300], {"data": json.dumps(body).encode(), "content_type": "application/json"}
        else:
            yield f"form {body}"[:300], {"data": _form_bytes(body), "content_type": form}


@pytest.fixture
def world(app, monkeypatch):
    configure(app, monkeypatch)
    return build(app)


@pytest.mark.parametrize("endpoint,method", _fuzzed_routes(), ids=[f"{m} {e}" for e, m in _fuzzed_routes()])
def test_malformed_requests_never_get_a_5xx(app, world, endpoint, method):
    rng = random.Random(f"{SEED}-{endpoint}-{method}")
    admin = world.callers["admin"]
    row = ROUTES[endpoint][method]
    rules = [rule for e, m, rule in routes(app) if (e, m) == (endpoint, method)]
    failures = []
    for n, (what, kw) in enumerate(itertools.islice(requests_for(endpoint, method, rng), _count(endpoint, method))):
        url = url_for_rule(rng.choice(rules), row, world)
        if n == 0 and "<" in "".join(rules):   # once per route: the URL's own ids and names, broken
            url = url_for_rule(rng.choice(rules), replace(row, values=dict.fromkeys(ARGS, rng.choice(PATH_VALUES))),
                               world)
            what = f"path {url[:200]}"
        if method == "GET":
            url += "?" + _form_bytes({k: rng.choice(VALUES) for k in rng.sample(FIELDS, 3)}).decode()
            kw = {}
        admin.client.addr = f"203.0.113.{n}"   # past the per-address limits, so the body is what's tested
        headers = {**admin.headers(url), "X-CSRFToken": admin.client.csrf(), **kw.pop("headers", {})}
        try:
            r = admin.client.open(url, method=method, headers=headers, **kw)
        except Exception as exc:   # TESTING propagates what would have been a 500
            failures.append(f"{what} -> {type(exc).__name__}: {str(exc)[:200]}")
            continue
        body = r.get_data(as_text=True)
        if r.status_code >= 500:
            failures.append(f"{what} -> {r.status_code}")
        elif r.status_code >= 400 and any(leak in body for leak in LEAKS):
            failures.append(f"{what} -> {r.status_code} with {[w for w in LEAKS if w in body]}")
    assert failures == [], f"{method} {endpoint}"
