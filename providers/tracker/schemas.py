"""Tracker connection credentials (API-FACTS §1.1): a customer bearer token or OAuth tokens, the data
region that picks the default REST host, and the JWT the adapter caches between jobs."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields as mf, validate, validates_schema

from providers.weblinks import web_address_field

REGION_HOSTS = {"uk": "https://evoglapi.tracker-rms.com", "us": "https://evousapi.tracker-rms.com",
                "ca": "https://evocaapi.tracker-rms.com"}
API_HOSTS = tuple(url.split("://", 1)[1] for url in REGION_HOSTS.values())


class Credentials(Schema):
    bearer_token = mf.String(metadata={"secret": True, "label": "API bearer token",
                             "help": "Tracker → Tools & Settings → API; regenerating it revokes the old one"})
    access_token = mf.String(metadata={"secret": True, "label": "OAuth access token"})
    refresh_token = mf.String(metadata={"secret": True, "label": "OAuth refresh token"})
    region = mf.String(load_default="uk", validate=validate.OneOf(sorted(REGION_HOSTS)),
                       metadata={"label": "Data region (picks the default API host)"})
    # Written back by the adapter through on_credentials_changed; never entered by a person.
    jwt = mf.String(metadata={"secret": True, "internal": True})
    jwt_expires_at = mf.String(metadata={"internal": True})
    jwt_obtained_at = mf.String(metadata={"internal": True})

    web_url = web_address_field("Tracker", "https://evo.tracker-rms.com", "your data region's Tracker app")

    @validates_schema
    def _one_token(self, data: dict[str, Any], **_: Any) -> None:
        if not (data.get("bearer_token") or data.get("access_token")):
            raise ValidationError("a bearer token (or an OAuth access token) is required", "bearer_token")
