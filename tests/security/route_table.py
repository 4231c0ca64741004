"""The route table's machinery: what a row says, the URL of a rule filled with team A's ids, and one
request as one caller (with a valid CSRF token, so CSRF never masks what the route itself answers)."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from route_world import Caller, World

LOGIN = "login"      # a redirect to the login page (a page asked for without a session)
HX_LOGIN = "hx-login"   # the same for an htmx request: 401 with HX-Redirect to the login page
SKIP_METHODS = {"HEAD", "OPTIONS"}
_ARG = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@dataclass(frozen=True)
class Row:
    """What each caller gets from one method of one route.

    anonymous / recruiter (team A, the owner of every object) / other_admin (an admin of team B,
    against team A's objects): a status, a tuple of acceptable statuses, or LOGIN. `form` / `json`:
    the body, its strings formatted with the world's ids; `values`: URL arguments taken from other
    world keys (e.g. {"token": "invite_token"}) or given as is (an `any(...)` choice)."""
    anonymous: Any
    recruiter: Any
    other_admin: Any
    form: dict[str, Any] | None = None
    json: Any = None
    values: dict[str, str] = field(default_factory=dict)
    htmx: bool = False     # a fragment route (a plain visit is sent to its page)
    why: str = ""


def routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) for every rule of the URL map and every method but HEAD/OPTIONS."""
    return sorted((r.endpoint, m, r.rule) for r in app.url_map.iter_rules() for m in r.methods - SKIP_METHODS)


def url_for_rule(rule: str, row: Row, world: World) -> str:
    def _value(m: re.Match[str]) -> str:
        name = m.group(1)
        key = row.values.get(name, name)
        return str(world.values.get(key, key))
    return _ARG.sub(_value, rule)


@dataclass(frozen=True)
class Upload:
    """A file field: sent as a fresh file each time."""
    content: bytes
    filename: str


def _fill(value: Any, world: World) -> Any:
    if isinstance(value, Upload):
        return (io.BytesIO(value.content), value.filename)
    if isinstance(value, str):
        whole = re.fullmatch(r"\{(\w+)\}", value)   # "{campaign_id}" alone: the id itself, an int in JSON
        return world.values[whole.group(1)] if whole else value.format_map(world.values)
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


def send(caller: Caller, method: str, url: str, row: Row, world: World):
    headers = caller.headers(url) | ({"HX-Request": "true"} if row.htmx else {})
    if method == "GET":
        return caller.client.get(url, headers=headers)
    if row.json is not None:
        return caller.client.post(url, json=_fill(row.json, world), headers=headers) if method == "POST" else \
            caller.client.open(url, method=method, json=_fill(row.json, world), headers=headers)
    return caller.client.post(url, _fill(row.form or {}, world), headers=headers)


def matches(expected: Any, response: Any) -> bool:
    if expected == HX_LOGIN:
        return response.status_code == 401 and "/login" in response.headers.get("HX-Redirect", "")
    if expected == LOGIN:
        return response.status_code == 302 and "/login" in response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and "/login" in response.headers.get("Location", ""):
        return False   # sent to log in: only LOGIN expects that (an OK of 302 never means this)
    if isinstance(expected, tuple):
        return response.status_code in expected
    return response.status_code == expected


def excerpt(body: str, size: int = 300) -> str:
    """The words of a page (its <main>, if any), to say why a status differs from the table's."""
    main = body.split("<main", 1)[-1]
    text = " ".join(re.sub(r"<[^>]+>", " ", main).split())
    return text[:size]
