"""Marshmallow schema of a CATS connection's credentials (secrets marked for the UI)."""
from __future__ import annotations

from marshmallow import Schema, fields as mf


class Credentials(Schema):
    api_key = mf.String(required=True, metadata={"secret": True, "label": "API key",
                        "help": "CATS → Settings → Administration → Site Management → API Keys"})
