"""Input no request can turn into a 500, checked once for every route:

- Ids: the `int` URL converter is bounded to models.MAX_ID (ids past the database's integer range
  name nothing: 404, where the database would have raised), and `IdField` / `parse_id` do the same
  for ids in forms, query strings and JSON.
- NUL bytes and lone surrogates anywhere in the query string, form fields or JSON body: 422 naming
  the field (PostgreSQL can't store a NUL, and nothing can encode a lone surrogate).
- JSON nested deeper than MAX_JSON_DEPTH: 400 (Python's parser would recurse to a crash first).
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterator

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from marshmallow import fields, validate
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.exceptions import UnprocessableEntity
from werkzeug.routing import IntegerConverter

from models import MAX_ID

MAX_JSON_DEPTH = 32
SCAN_BODY_BYTES = 2 * 1024 * 1024
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class IdConverter(IntegerConverter):
    """`<int:x>` (and `<id:x>`): a positive id no larger than MAX_ID; anything else doesn't match."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def IdField(**kwargs: Any) -> fields.Integer:   # noqa: N802 (a field factory reads like a field class)
    """The marshmallow field for an id: an integer from 1 to MAX_ID (strict: no floats or "1e3")."""
    return fields.Integer(strict=kwargs.pop("strict", False), validate=validate.Range(min=1, max=MAX_ID),
                          **kwargs)


def parse_id(raw: Any) -> int | None:
    """An id from a form or query string ("12" → 12); None for anything that can't be one."""
    text = str(raw or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


class JsonTooDeep(ValueError):
    pass


class GuardedJSON(DefaultJSONProvider):
    """Request bodies: depth-limited, and a parse error (RecursionError included) is a 400."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            data = json.loads(s, **kwargs)
        except RecursionError:
            raise JsonTooDeep(f"JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)") from None
        if _too_deep(data):
            raise JsonTooDeep(f"JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)")
        return data


class GuardedArgs(FlaskParser):
    """webargs' parser (the API's bodies, through flask-smorest) reading JSON with the app's
    GuardedJSON: webargs' own `json.loads` has no depth limit and 5,000 nested brackets crashed it."""

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return webargs_core.missing
        data = req.get_data(cache=True)
        try:
            return current_app.json.loads(data)
        except json.JSONDecodeError:
            raise   # webargs' own handling: an empty body is "no body", anything else a 400
        except ValueError as exc:   # nested too deeply, or not UTF-8
            message = str(exc) if isinstance(exc, JsonTooDeep) else "The body is not JSON in UTF-8."
            abort(400, exc=exc, messages={"json": [message]})


def _too_deep(data: Any) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field path, string) for every key and string value in a parsed JSON document."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in item.items():
                name = f"{where}.{key}" if where else str(key)
                yield name, str(key)
                stack.append((child, name))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))


def _unstorable_field() -> str | None:
    """The first field of this request holding a NUL or a lone surrogate, if any."""
    # A body past SCAN_BODY_BYTES is an upload (a CV, an inbound email) whose route sets its own size
    # limit and reads it itself; reading it here would apply the app's limit first.
    sources = [request.args]
    if (request.content_length or 0) <= SCAN_BODY_BYTES:
        sources.append(request.form)
    for source in sources:
        for key, value in source.items(multi=True):
            if UNSTORABLE.search(key) or UNSTORABLE.search(value):
                return key
    if request.is_json and 0 < (request.content_length or 0) <= SCAN_BODY_BYTES:
        for where, text in _strings(request.get_json(silent=True), ""):
            if UNSTORABLE.search(text):
                return where or "body"
    for key, value in (request.view_args or {}).items():
        if isinstance(value, str) and UNSTORABLE.search(value):
            return key
    return None


def init_inputs(app: Flask) -> None:
    """Install the converter and JSON provider (before any route is added) and the field check.
    A bad body's 400 and the 422 below are rendered by blueprints/errors.py (JSON for the APIs)."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["id"] = IdConverter
    app.json = GuardedJSON(app)

    @app.before_request
    def _refuse_unstorable() -> None:
        field = _unstorable_field()
        if field is not None:
            raise UnstorableInput(field)


class UnstorableInput(UnprocessableEntity):
    def __init__(self, field: str):
        super().__init__(f"The field {field[:100]!r} contains a character Shoal can't store (a NUL byte or "
                         "an unpaired surrogate). Remove it and try again.")
        self.field = field
