"""Marshmallow schema of a SmartRecruiters connection's credentials (secrets marked for the UI)."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema


class Credentials(Schema):
    """An API key, or OAuth tokens from the authorization-code flow (with the app's client id and
    secret, needed to refresh). `auth_base_url` overrides the identity host (sandbox/testing)."""
    api_key = fields.String(metadata={"secret": True, "label": "API key (X-SmartToken)"})
    access_token = fields.String(metadata={"secret": True})
    refresh_token = fields.String(metadata={"secret": True})
    expires_at = fields.Float(allow_none=True)
    client_id = fields.String()
    client_secret = fields.String(metadata={"secret": True})
    auth_base_url = fields.Url(require_tld=False, metadata={"label": "OAuth host (optional)"})

    @validates_schema
    def _one_credential(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("api_key") and not data.get("access_token"):
            raise ValidationError("an API key or an OAuth access token is required", "api_key")
