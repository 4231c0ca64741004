"""The JSON API under /api/v1: see `blueprints.api.common` for authentication and errors."""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from blueprints.api import campaigns, enrolments, people
from blueprints.api.common import PREFIX, SECURITY, ShoalApi
from core import csrf


def init_api(app: Flask) -> Api:
    """Serve the API and its OpenAPI document on `app`."""
    app.config.setdefault("API_TITLE", "Shoal")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = ShoalApi(app, spec_kwargs={"security": [{"bearerAuth": []}],
                                     "servers": [{"url": "/"}]})
    api.spec.components.security_scheme("bearerAuth", SECURITY["bearerAuth"])
    for blp in (campaigns.blp, people.blp, enrolments.blp, enrolments.events_blp):
        csrf.exempt(blp)
        api.register_blueprint(blp, url_prefix=PREFIX + blp.url_prefix)
    return api
