"""Page-or-fragment rendering and small htmx response helpers, shared by every server-rendered area.

One URL serves both a full page and its fragment: `render_page_or_fragment(template, block)` renders
only `{% block <block> %}` of the page template when the request comes from htmx (`HX-Request`) and
is not a boosted navigation (`HX-Boosted` wants the whole body), and the full page otherwise. Every
such response carries `Vary: HX-Request`, so a cache never serves the fragment as the page.

Form errors under htmx 2 (decided once, here): a form that fails validation is answered with
**422 Unprocessable Entity** and the form fragment re-rendered with its errors. htmx 2 does not swap
4xx responses by default, so `templates/base.html` configures `htmx.config.responseHandling` once
(through the `htmx-config` meta tag: no inline script) to swap 422 like a 2xx, while other 4xx/5xx
stay unswapped errors. Without JavaScript the same 422 page is simply shown by the browser. A 429
(a rate limit, blueprints/_limits.py) swaps too: its body is the error card saying why.
"""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, make_response, redirect, render_template
from htmx_flask import make_response as hx_response
from htmx_flask import request

# The responseHandling rules base.html installs; kept here so the decision and its data live together.
RESPONSE_HANDLING = (
    '[{"code":"204","swap":false},{"code":"[23]..","swap":true},'
    '{"code":"422","swap":true},{"code":"429","swap":true},{"code":"[45]..","swap":false,"error":true},'
    '{"code":"...","swap":false}]'
)


def is_htmx() -> bool:
    return bool(request.htmx)   # htmx-flask's view of the HX-* request headers


def wants_fragment() -> bool:
    """An htmx request that replaces part of a page (boosted navigation wants the full page)."""
    return bool(request.htmx) and not request.htmx.boosted


def render_block(template_name: str, block: str, **ctx: Any) -> str:
    """Render one block of a template with the usual context (current_user, csrf_token, ...)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    app.update_template_context(ctx)
    template = app.jinja_env.get_template(template_name)
    if block not in template.blocks:
        raise KeyError(f"{template_name} has no block {block!r}")
    context = template.new_context(ctx)
    return "".join(template.blocks[block](context))


def render_page_or_fragment(template: str, block: str = "main", status: int = 200, **ctx: Any) -> Response:
    """The page `template`, or only its `block` for an htmx (non-boosted) request. Vary: HX-Request."""
    html = render_block(template, block, **ctx) if wants_fragment() else render_template(template, **ctx)
    resp = make_response(html, status)
    resp.vary.add("HX-Request")
    return resp


def render_fragment(template: str, status: int = 200, **ctx: Any) -> Response:
    """An `_fragment.html` template on its own (polled status badges, list rows)."""
    resp = make_response(render_template(template, **ctx), status)
    resp.vary.add("HX-Request")
    return resp


def hx_redirect(url: str, status: int = 302) -> Response:
    """Send the browser to `url`: a full navigation via `HX-Redirect` for htmx, a plain redirect otherwise."""
    if is_htmx():
        return hx_response("", 204 if status < 400 else status, redirect=url)
    return redirect(url, code=status if status in (301, 302, 303, 307, 308) else 302)


def hx_trigger(resp: Response, event: str) -> Response:
    """Fire a client-side event after the swap (e.g. to refresh a counter elsewhere on the page)."""
    existing = resp.headers.get("HX-Trigger")
    resp.headers["HX-Trigger"] = f"{existing}, {event}" if existing else event
    return resp
