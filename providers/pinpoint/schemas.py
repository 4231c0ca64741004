"""Marshmallow schema of a Pinpoint connection's credentials (secrets marked for the UI)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from providers.hosts import SUBDOMAIN_MESSAGE, SUBDOMAIN_RE
from providers.weblinks import web_address_field


class Credentials(Schema):
    api_key = fields.String(required=True, metadata={"secret": True, "label": "API key"})
    # One DNS label: `evil.example#` would otherwise build https://evil.example#.pinpointhq.com/ (issue #10).
    subdomain = fields.String(required=True, validate=validate.Regexp(SUBDOMAIN_RE, error=SUBDOMAIN_MESSAGE),
                              metadata={"label": "Subdomain (<subdomain>.pinpointhq.com)"})
    default_job_id = fields.String(metadata={"label": "Job for people pushed without one (optional)"})
    web_url = web_address_field("Pinpoint", "https://acme.pinpointhq.com", "https://<subdomain>.pinpointhq.com")
