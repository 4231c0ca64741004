"""Marshmallow schema of a SmartRecruiters connection's credentials (secrets marked for the UI)."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

from providers.weblinks import web_address_field


class Credentials(Schema):
    """An API key, or OAuth tokens from the authorization-code flow. The OAuth client id, secret and
    identity host are the app's (config: SMARTRECRUITERS_CLIENT_ID/_SECRET/_AUTH_BASE_URL), never
    stored here: a team's credentials can't name where the app's secret is sent (issue #10)."""
    api_key = fields.String(metadata={"secret": True, "label": "API key (X-SmartToken)"})
    access_token = fields.String(metadata={"secret": True})
    refresh_token = fields.String(metadata={"secret": True})
    expires_at = fields.Float(allow_none=True)

    web_url = web_address_field("SmartRecruiters", "https://www.smartrecruiters.com", "https://www.smartrecruiters.com")

    @validates_schema
    def _one_credential(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("api_key") and not data.get("access_token"):
            raise ValidationError("an API key or an OAuth access token is required", "api_key")
