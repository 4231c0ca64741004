"""What every response carries, and how the app sees clients behind a proxy.

- ProxyFix with PROXY_HOPS (SHOAL_PROXY_HOPS): behind N trusted proxies, X-Forwarded-For / -Proto /
  -Host / -Port from the nearest N are believed, so rate limits count the real client and https is
  known (Secure cookies, HSTS). With 0 (the default) those headers are ignored: a client could forge them.
- Security headers on every response:
  * Content-Security-Policy: scripts and styles from this origin only (no inline script or style
    anywhere: templates load static/htmx.min.js, and htmx's own indicator <style> is switched off in
    base.html), no plugins, no <base> tricks. No `form-action`: the SmartRecruiters "Allow access"
    form is answered by a redirect to the CRM's identity host, which Chrome would block.
  * frame-ancestors 'none' (and X-Frame-Options: DENY) everywhere except /panel/, which only the
    extension's own pages (chrome-extension://<EXTENSION_IDS>) may frame.
  * Strict-Transport-Security on https responses; X-Content-Type-Options: nosniff;
    Referrer-Policy: same-origin (invite and reset links carry their token in the path);
    Cross-Origin-Opener-Policy: same-origin-allow-popups on pages (a page keeps the handle of a pop-up
    it opened), and none on the OAuth start/callback pages: the consent pop-up travels to the CRM's
    identity host and back, and a COOP on its return would cut it off from the page that opened it,
    which could then never see it close (the article's "Allow access" pop-up).
"""
from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors {ancestors}")


def init_security(app: Flask) -> None:
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]
    extension_origins = " ".join(f"chrome-extension://{i}" for i in app.config.get("EXTENSION_IDS") or ())
    panel_csp = CSP.format(ancestors=extension_origins or "'none'")
    page_csp = CSP.format(ancestors="'none'")
    hsts = int(app.config.get("HSTS_SECONDS") or 0)

    @app.after_request
    def _security_headers(resp: Response) -> Response:
        headers = resp.headers
        if request.path.startswith("/panel/") or request.path == "/panel":
            headers["Content-Security-Policy"] = panel_csp
        else:
            headers["Content-Security-Policy"] = page_csp
            headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        if "/oauth/" not in request.path:
            headers["Cross-Origin-Opener-Policy"] = "same-origin-allow-popups"
        if hsts and request.is_secure:
            headers["Strict-Transport-Security"] = f"max-age={hsts}"
        return resp
