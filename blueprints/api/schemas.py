"""Marshmallow schemas of the JSON API (/api/v1): what each endpoint accepts and returns. The
OpenAPI document at /api/v1/openapi.json is generated from these, so they are the contract.

Input strings may not carry NUL characters (PostgreSQL refuses them in text columns) and are
length-limited to the column they end up in; unknown keys are refused, so a misspelt field is a
422 naming it rather than silently ignored."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from blueprints.panel_schemas import MAX_ID, ProfileSchema
from services.campaigns import CAMPAIGN_TYPES
from services.people_edits import RECORDABLE
from sync.types import TRIGGERS

NOTE_MAX = 5000


def _no_nul(data: Any, path: str = "") -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            errors.update(_no_nul(value, f"{path}{key}" if not path else f"{path}.{key}"))
    elif isinstance(data, list):
        for value in data:
            errors.update(_no_nul(value, path))
    elif isinstance(data, str) and "\x00" in data:
        errors[path or "_schema"] = ["Must not contain NUL characters."]
    return errors


class UtcDateTime(fields.DateTime):
    """Shoal stores naive UTC datetimes; the API says so (RFC 3339 wants the offset)."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


class Strict(Schema):
    class Meta:
        unknown = RAISE

    @pre_load
    def _refuse_nul(self, data: Any, **_: Any) -> Any:
        errors = _no_nul(data)
        if errors:
            raise ValidationError(errors)
        return data


class ErrorSchema(Schema):
    code = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String()
    errors = fields.Dict()


class PageArgs(Strict):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))


# -- campaigns ------------------------------------------------------------------------------------

class CampaignIn(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    type = fields.String(load_default="outreach", validate=validate.OneOf(list(CAMPAIGN_TYPES)))
    sync_as = fields.String(load_default="none", validate=validate.Length(min=1, max=40),
                            metadata={"description": "A record type of the connected CRM, or none"})
    add_when = fields.String(load_default="added", validate=validate.OneOf(TRIGGERS))
    job_id = fields.String(validate=validate.Length(max=100))
    job_status = fields.String(validate=validate.Length(max=100))
    tags = fields.List(fields.String(validate=validate.Length(min=1, max=100)), validate=validate.Length(max=50))
    lists = fields.List(fields.String(validate=validate.Length(min=1, max=100)), validate=validate.Length(max=50))
    status = fields.String(validate=validate.Length(max=100))


class CampaignOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    type = fields.String(required=True)
    sync_as = fields.String(required=True)
    add_when = fields.String(allow_none=True)
    sync_options = fields.Dict(required=True)
    created_at = UtcDateTime(required=True)


# -- people ---------------------------------------------------------------------------------------

class PersonIn(Strict, ProfileSchema):
    """A person to create (or find: the same email or LinkedIn profile is the same person)."""


class CrmLinkOut(Schema):
    provider = fields.String(required=True)
    record_type = fields.String(required=True)
    remote_id = fields.String(required=True)
    url = fields.String(required=True, allow_none=True,
                        metadata={"description": "The record's page in the CRM's web app; null when Shoal "
                                                 "can't build one (set the connection's web address)"})


class PersonOut(Schema):
    id = fields.Integer(required=True)
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    company = fields.String(allow_none=True)
    location = fields.String(allow_none=True)
    linkedin_url = fields.String(allow_none=True)
    has_cv = fields.Boolean(required=True)
    crm_links = fields.List(fields.Nested(CrmLinkOut), required=True)
    created_at = UtcDateTime(required=True)


class PeopleArgs(PageArgs):
    email = fields.String(validate=validate.Length(max=254))


# -- enrolments and events ------------------------------------------------------------------------

class EnrolmentIn(Strict):
    campaign_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))
    person_id = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID),
                               metadata={"description": "An existing person; or give `person`"})
    person = fields.Nested(PersonIn, metadata={"description": "Create or find this person"})
    sync_as = fields.String(validate=validate.Length(min=1, max=40),
                            metadata={"description": "This person's override of the campaign's sync-as"})


class EnrolmentArgs(PageArgs):
    campaign_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    person_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class SyncOut(Schema):
    intent_id = fields.Integer(required=True)
    state = fields.String(required=True)
    reason = fields.String(allow_none=True)


class EnrolmentOut(Schema):
    id = fields.Integer(required=True)
    campaign_id = fields.Integer(required=True)
    person_id = fields.Integer(required=True)
    status = fields.String(required=True)
    sync_as = fields.String(allow_none=True)
    created_at = UtcDateTime(required=True)
    created = fields.Boolean(metadata={"description": "False when the person was already a member"})


class EventIn(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(list(RECORDABLE)))
    body = fields.String(validate=validate.Length(max=NOTE_MAX), allow_none=True,
                         metadata={"description": "The reply's text, the call notes, ..."})
    message_id = fields.String(validate=validate.Length(min=3, max=500),
                               metadata={"description": "For email_sent: the email's Message-ID, so the "
                                                        "inbound-mail webhook can match its reply"})


class EventOut(Schema):
    id = fields.Integer(required=True)
    enrolment_id = fields.Integer(allow_none=True)
    person_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    channel = fields.String(allow_none=True)
    body = fields.String(allow_none=True)
    occurred_at = UtcDateTime(required=True)
    sync = fields.List(fields.Nested(SyncOut), required=True)


class IdempotencyHeader(Schema):
    idempotency_key = fields.String(data_key="Idempotency-Key",
                                    validate=[validate.Length(min=1, max=200),
                                              validate.Regexp(r"^[\x21-\x7e]+$",
                                                              error="Printable ASCII without spaces.")],
                                    metadata={"description": "The same key twice records the event once "
                                                             "and answers the first response again"})
