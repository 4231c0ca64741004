"""Marshmallow schema of a CATS connection's credentials (secrets marked for the UI)."""
from __future__ import annotations

from marshmallow import Schema, fields as mf

from providers.weblinks import web_address_field


class Credentials(Schema):
    api_key = mf.String(required=True, metadata={"secret": True, "label": "API key",
                        "help": "CATS → Settings → Administration → Site Management → API Keys"})
    web_url = web_address_field("CATS", "https://acme.catsone.com", "your CATS site, found when Shoal checks the connection")
    # The account's subdomain (GET /site), written back by the check: the web app's address.
    account = mf.String(metadata={"internal": True})
