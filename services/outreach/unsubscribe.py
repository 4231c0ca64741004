"""The unsubscribe link in every sequence email, and its `List-Unsubscribe` one-click twin
(RFC 8058: the mail provider POSTs to the same URL). The token is the step run's id signed with
the app's SECRET_KEY, so it can't be guessed or changed into someone else's. Opting out records an
`opted_out` event through services.enrolments, whose hook stops the person's sequence and puts the
address on the team's suppression list."""
from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from core import db
from models import Enrolment, OutreachEvent, StepRun
from services.enrolments import record_event

SALT = "shoal-unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def token_for(run_id: int) -> str:
    return _serializer().dumps(run_id)


def url_for_run(run_id: int) -> str:
    base = str(current_app.config.get("OUTREACH_PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/")
    return f"{base}/u/{token_for(run_id)}"


def run_for_token(token: str) -> StepRun | None:
    try:
        run_id = _serializer().loads(token)
    except BadSignature:
        return None
    return db.session.get(StepRun, int(run_id)) if isinstance(run_id, int) else None


def opt_out(run: StepRun) -> bool:
    """Record the opt-out once (a second click changes nothing). True if it was new."""
    enrolment = db.session.get(Enrolment, run.enrolment_id)
    already = db.session.scalars(select(OutreachEvent.id).where(OutreachEvent.enrolment_id == enrolment.id,
                                                               OutreachEvent.kind == "opted_out")).first()
    if already is not None:
        return False
    record_event(enrolment, "opted_out", channel="email",
                 body=f"Unsubscribed with the link in \"{run.subject or 'an email'}\"",
                 data={"run_id": run.id, "message_id": run.message_id})
    return True
