"""Marshmallow schema of a Pinpoint connection's credentials (secrets marked for the UI)."""
from __future__ import annotations

from marshmallow import Schema, fields


class Credentials(Schema):
    api_key = fields.String(required=True, metadata={"secret": True, "label": "API key"})
    subdomain = fields.String(required=True, metadata={"label": "Subdomain (<subdomain>.pinpointhq.com)"})
    default_job_id = fields.String(metadata={"label": "Job for people pushed without one (optional)"})
