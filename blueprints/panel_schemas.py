"""Validation of what the extension sends. Everything here was scraped from a third-party page, so
it is untrusted: every field is length-limited (to the column it ends up in), names may not carry
markup, the LinkedIn URL must really be a linkedin.com URL, and unknown keys are refused."""
from __future__ import annotations

from typing import Any

from ada_url import URL
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

import models

# The whole request body; a profile is a few hundred bytes, so this is generous.
MAX_BODY_BYTES = 64 * 1024
MAX_ID = models.MAX_ID   # re-exported: the one bound on ids (see models.py)

FIELD_LABELS = {
    "first_name": "First name", "last_name": "Last name", "email": "Email", "phone": "Phone",
    "title": "Title", "company": "Company", "location": "Location", "linkedin_url": "LinkedIn URL",
    "campaign_id": "Campaign", "sync_as": "Sync as", "profile": "Profile",
    "job_id": "Job / pipeline", "job_status": "Status on the job", "tags": "Tags", "lists": "Lists",
    "status": "Record status", "add_when": "When to add", "company_choice": "Company",
    "sync_options": "Sync options", "fields": "Fields", "_mandatory": "Mandatory fields",
}
# Option inputs of the grey arrow, as the panel form names them ("opt_<key>").
OPTION_KEYS = ("job_id", "job_status", "status", "add_when")
OPTION_LISTS = ("tags", "lists")
MAX_OPTION_VALUES = 50


def _no_markup(value: str) -> None:
    if "<" in value or ">" in value:
        raise ValidationError("Must not contain < or >.")


class LinkedInUrl(fields.String):
    """A linkedin.com URL, parsed the way a browser parses it (WHATWG, via ada) and stored as the
    browser would read it: "https://evil.test\\@www.linkedin.com/in/x" is evil.test to a browser
    (Python's urlsplit says linkedin.com), so it is refused; an unparseable URL is a 422, not a 500."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            url = URL(text)
        except ValueError:
            raise ValidationError("Must be a linkedin.com profile URL.") from None
        host = url.hostname.lower()
        if (url.protocol not in ("http:", "https:") or url.username or url.password or url.port
                or not (host == "linkedin.com" or host.endswith(".linkedin.com"))):
            raise ValidationError("Must be a linkedin.com profile URL.")
        return url.href


def _name(max_len: int, required: bool = False) -> fields.String:
    return fields.String(required=required, validate=[validate.Length(min=1, max=max_len), _no_markup])


def _text(max_len: int) -> fields.String:
    return fields.String(validate=validate.Length(max=max_len))


class ProfileSchema(Schema):
    """A captured person. Blank strings count as absent, so an empty form input is not an error."""

    class Meta:
        unknown = RAISE

    first_name = _name(100, required=True)
    last_name = _name(100)
    email = fields.Email(validate=validate.Length(max=254))
    phone = fields.String(validate=[validate.Length(max=50),
                                    validate.Regexp(r"^[0-9+()./ \-]*(?:(?:ext|x)\.? ?[0-9]+)?$",
                                                    error="Not a valid phone number.")])
    title = _text(200)
    company = _text(200)
    location = _text(200)
    linkedin_url = LinkedInUrl(validate=validate.Length(max=500))

    @pre_load
    def _drop_blanks(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = {}
        for key, value in data.items():
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
            out[key] = value
        return out


class EnrolTargetSchema(Schema):
    """Which campaign, and the person's optional "sync as" override ("" = the campaign's choice)."""

    class Meta:
        unknown = RAISE

    campaign_id = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    sync_as = fields.String(load_default="", validate=validate.Length(max=40))


def _id_text(max_len: int = 100) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=max_len))


class OptionsSchema(Schema):
    """The grey arrow's values for one person (JSON API). Keys left out = the campaign's."""

    class Meta:
        unknown = RAISE

    job_id = _id_text()
    job_status = _id_text()
    status = _id_text()
    add_when = _id_text(20)
    tags = fields.List(fields.String(validate=validate.Length(max=200)), validate=validate.Length(max=MAX_OPTION_VALUES))
    lists = fields.List(fields.String(validate=validate.Length(max=200)), validate=validate.Length(max=MAX_OPTION_VALUES))


class EnrolJsonSchema(EnrolTargetSchema):
    """Body of POST /panel/api/enrol: {"campaign_id": 1, "sync_as": "candidate", "profile": {...},
    "sync_options": {"job_id": "3", "tags": ["7"], "add_when": "reply"}, "fields": {"custom:2": "x"},
    "company_choice": "Acme Ltd"}; everything but campaign_id and profile is optional."""

    profile = fields.Nested(ProfileSchema, required=True)
    sync_options = fields.Nested(OptionsSchema, load_default=None)
    fields_ = fields.Dict(data_key="fields", keys=fields.String(validate=validate.Length(max=100)),
                          values=fields.Raw(allow_none=True), validate=validate.Length(max=MAX_OPTION_VALUES),
                          load_default=None)
    company_choice = fields.String(load_default=None, validate=validate.Length(max=200))


def form_options(form: Any) -> dict[str, Any] | None:
    """The grey arrow's inputs of an htmx form (a MultiDict), or None when they weren't shown.
    A multi-select sends a blank hidden value first, so "none selected" is still a value."""
    if not form.get("opt_shown"):
        return None
    out: dict[str, Any] = {k: form.get(f"opt_{k}") for k in OPTION_KEYS if f"opt_{k}" in form}
    out.update({k: form.getlist(f"opt_{k}")[:MAX_OPTION_VALUES] for k in OPTION_LISTS if f"opt_{k}" in form})
    return out


def form_fields(form: Any) -> dict[str, Any] | None:
    """CRM field values of an htmx form ("x:<field key>" inputs), or None when none were shown."""
    if not form.get("fields_shown"):
        return None
    out: dict[str, Any] = {}
    for name in list(form.keys())[:200]:
        if name.startswith("x:") and len(name) <= 102:
            values = form.getlist(name)
            out[name[2:]] = values if len(values) > 1 else values[0]
    return out


def split_form(form: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """A flat htmx form → (target fields, profile fields); other keys are ignored, not refused,
    because browsers and htmx may add their own."""
    target = {k: form[k] for k in ("campaign_id", "sync_as") if k in form}
    profile = {k: form[k] for k in ProfileSchema().fields if k in form}
    return target, profile


def describe(errors: dict[str, Any]) -> list[str]:
    """Marshmallow's nested error dict as readable lines: ["Email: Not a valid email address."]."""
    lines: list[str] = []
    for key, value in errors.items():
        if isinstance(value, dict):
            lines.extend(describe(value))
            continue
        # CRM field messages (keys like "custom:12") already name the field by its CRM label.
        label = None if ":" in str(key) else FIELD_LABELS.get(str(key), str(key))
        messages = value if isinstance(value, list) else [value]
        lines.extend(m if label is None or m.startswith(f"{label}:") else f"{label}: {m}"
                     for m in messages if isinstance(m, str))
    return lines
