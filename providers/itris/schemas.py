"""Marshmallow schema of a itris connection's credentials (secrets marked for the UI)."""
from __future__ import annotations

from marshmallow import Schema, fields as mf, validate

from providers.hosts import SUBDOMAIN_MESSAGE, SUBDOMAIN_RE
from providers.weblinks import web_address_field


class Credentials(Schema):
    username = mf.String(required=True, validate=validate.Length(min=1),
                         metadata={"label": "API username",
                                   "help": "itris → Integrations → new Configuration"})
    password = mf.String(required=True, validate=validate.Length(min=1),
                         metadata={"secret": True, "label": "Password"})
    subdomain = mf.String(required=True, validate=validate.Regexp(SUBDOMAIN_RE, error=SUBDOMAIN_MESSAGE),
                          metadata={"label": "Subdomain"})
    # Written back through on_credentials_changed so each job doesn't log in again.
    access_token = mf.String(metadata={"secret": True, "internal": True})
    token_expires_at = mf.String(metadata={"internal": True})
    web_url = web_address_field("itris", "https://acme.itris.cloud", "your itris server's address")
