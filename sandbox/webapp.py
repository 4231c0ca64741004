"""A CRM's web app, simulated just enough for Shoal's links to open something in the demo: one
read-only page per record, at the path the real web app is assumed to use. Each sandbox names its
own paths (providers/<key>/assumed.py makes the same assumption on its side, independently).

These pages are not CRM API calls: `make_app` (sandbox.common) leaves the `webapp` blueprint out of
the request counts, the rate window and the fault switches. Every value is escaped."""
from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, Response
from markupsafe import escape

Finder = Callable[..., "tuple[str, str, dict[str, Any] | None]"]   # view args → (kind, id, row or None)
NAME = "webapp"

_STYLE = ("body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:46rem;color:#1d2733}"
          "th{text-align:left;padding:.25rem 1rem .25rem 0;color:#556;font-weight:500}"
          ".note{color:#667;font-size:13px}")


def page(crm: str, kind: str, rid: Any, row: dict[str, Any] | None) -> Response:
    """The record's page: its simple values in a table; 404 when there is no such record."""
    title = f"{kind} #{rid}"
    if row is None:
        body = f"<h1>No {escape(kind.lower())} #{escape(rid)}</h1>"
        return _html(crm, title, body, 404)
    flat = {f"{k}.{sub}" if isinstance(v, dict) else k: x for k, v in row.items()
            for sub, x in (v.items() if isinstance(v, dict) else [(None, v)])}   # emails.primary, ...
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in flat.items()
                    if isinstance(v, (str, int, float)) and not isinstance(v, bool) and str(v) != "")
    body = f'<h1 id="record-title">{escape(title)}</h1><table id="record">{cells}</table>'
    return _html(crm, title, body, 200)


def _html(crm: str, title: str, body: str, status: int) -> Response:
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} · '
            f'{escape(crm)}</title><style>{_STYLE}</style></head><body>'
            f'<p class="note">{escape(crm)} sandbox: a read-only stand-in for {escape(crm)}\'s web app.</p>'
            f"{body}</body></html>")
    return Response(html, status=status, mimetype="text/html")


def blueprint(crm: str, routes: dict[str, Finder]) -> Blueprint:
    """A `webapp` blueprint serving `page` at each rule; a finder returns (kind, id, row or None)."""
    bp = Blueprint(NAME, __name__)
    for n, (rule, find) in enumerate(routes.items()):
        def view(_find: Finder = find, **kwargs: Any) -> Response:
            return page(crm, *_find(**kwargs))
        bp.add_url_rule(rule, f"record_{n}", view, methods=["GET"])
    return bp
