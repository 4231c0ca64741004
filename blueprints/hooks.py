"""Webhooks Shoal receives from other systems. CSRF-exempt: they carry no session cookie and are
authenticated by a per-team secret instead (never by the login session).

`POST /hooks/inbound-mail`: an inbound email from the team's mail provider (a Mailgun/SendGrid/
Postmark-style inbound route, or a script in front of an IMAP box). The secret goes in the
`X-Shoal-Secret` header (or `Authorization: Bearer`; `?key=` for providers that can only be given
a URL). Body: JSON, or multipart/form-data with the same field names and the attachments as files:

    {"from": "Ada <ada@example.com>", "to": "sam@agency.example", "subject": "Re: the role",
     "text": "Keen to talk", "message_id": "<r1@mail.example>", "in_reply_to": "<s1@shoal>",
     "references": "<s0@shoal> <s1@shoal>",
     "attachments": [{"filename": "cv.pdf", "content_type": "application/pdf", "content": "<base64>"}]}

Header-style names (`Message-ID`, `In-Reply-To`, `References`) are accepted too. Answers: 200 with
what happened (`matched`, `unmatched`: kept on the Inbox page, `duplicate`: already received),
401 with a bad secret (nothing recorded), 422 naming the fields that are wrong (nothing recorded).
A refused attachment (too large, an executable, not a CV) does not refuse the reply: it is listed
in the answer with the reason."""
from __future__ import annotations

import base64
import binascii
from email.utils import getaddresses, parseaddr
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, pre_load, validate

from core import csrf
from services import inbound

bp = Blueprint("hooks", __name__, url_prefix="/hooks")
csrf.exempt(bp)

ALIASES = {"message-id": "message_id", "in-reply-to": "in_reply_to", "sender": "from", "body-plain": "text",
           "body_plain": "text", "textbody": "text", "messageid": "message_id"}
MAX_ATTACHMENTS = 10


def _angle_ids(value: Any) -> list[str]:
    """Message-IDs from a header value (or a list of them), without their angle brackets."""
    parts = value if isinstance(value, list) else str(value or "").replace(",", " ").split()
    return [p.strip().strip("<>").strip() for p in parts if isinstance(p, str) and p.strip().strip("<>").strip()]


class AttachmentSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    filename = fields.String(load_default="", validate=validate.Length(max=255))
    content_type = fields.String(load_default="", validate=validate.Length(max=200))
    content = fields.String(required=True)

    @post_load
    def _decode(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        try:
            data["content"] = base64.b64decode(data["content"], validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError({"content": ["Not valid base64."]}) from None
        return data


class InboundMailSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    from_ = fields.String(data_key="from", required=True, validate=validate.Length(min=3, max=500))
    to = fields.String(load_default="", validate=validate.Length(max=2000))
    subject = fields.String(load_default="", validate=validate.Length(max=998))
    text = fields.String(load_default="", validate=validate.Length(max=1_000_000))
    message_id = fields.String(required=True, validate=validate.Length(min=3, max=500))
    in_reply_to = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    references = fields.Raw(load_default=None, allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentSchema), load_default=list,
                              validate=validate.Length(max=MAX_ATTACHMENTS))

    @pre_load
    def _names(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, dict):
            raise ValidationError({"_schema": ["The body must be a JSON object."]})
        return {ALIASES.get(k.lower(), k.lower()): v for k, v in data.items() if isinstance(k, str)}

    @post_load
    def _parse(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        name, addr = parseaddr(data.pop("from_"))
        if "@" not in addr:
            raise ValidationError({"from": ["Not an email address."]})
        data["from_addr"], data["from_name"] = addr.lower()[:254], name[:200]
        data["to"] = ", ".join(a for _n, a in getaddresses([data["to"]]) if a)[:500]
        [data["message_id"]] = _angle_ids(data["message_id"])[:1] or [""]
        if not data["message_id"]:
            raise ValidationError({"message_id": ["Missing."]})
        in_reply_to = _angle_ids(data.get("in_reply_to"))
        data["in_reply_to"] = in_reply_to[0] if in_reply_to else None
        refs = data.get("references")
        if refs is not None and not isinstance(refs, (str, list)):
            raise ValidationError({"references": ["A header value or a list of Message-IDs."]})
        data["references"] = [r[:500] for r in _angle_ids(refs)][:100]
        return data


def _secret() -> str | None:
    given = request.headers.get("X-Shoal-Secret")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if not given and scheme.lower() == "bearer":
        given = token.strip()
    return given or request.args.get("key")


def _payload() -> dict[str, Any]:
    """The body as the schema's input: JSON, or a multipart form whose files are the attachments."""
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ValidationError({"_schema": ["The body must be a JSON object."]})
        return body
    data: dict[str, Any] = request.form.to_dict()
    files = [f for _k, f in request.files.items(multi=True) if f.filename or f.mimetype]
    data["attachments"] = [{"filename": f.filename or "", "content_type": f.mimetype or "",
                            "content": base64.b64encode(f.read()).decode()} for f in files]
    return data


@bp.post("/inbound-mail")
def inbound_mail():
    """Receive one email for the team whose secret this is (see the module docstring)."""
    # Big enough to read a 30 MB attachment and refuse it by name, rather than a bare 413.
    request.max_content_length = current_app.config["INBOUND_MAX_BYTES"]
    team = inbound.team_for_secret(_secret())
    if team is None:
        return jsonify({"error": "Unauthorized", "message": "Missing or wrong webhook secret. An admin "
                        "finds the team's secret on the Inbox page in Shoal."}), 401
    try:
        mail = InboundMailSchema().load(_payload())
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return jsonify({"error": "Unprocessable Entity", "message": "The email is not valid.",
                        "fields": messages}), 422
    result = inbound.receive(team.id, mail)
    msg = result.message
    return jsonify({"status": result.status, "inbound_id": msg.id, "enrolment_id": msg.enrolment_id,
                    "event_id": msg.event_id, "matched_by": msg.matched_by,
                    "attachments": result.attachments}), 200
