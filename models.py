"""The domain (DESIGN §3) as SQLAlchemy 2 typed models.

Every row that belongs to a team carries `team_id`; `scoped(Model)` is the only way blueprints
query them, so a query can't forget the team (see `team_query`)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (JSON, Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text,
                        UniqueConstraint, select)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import db
from sync.types import IntentState  # noqa: F401 (re-exported: the states live with the pure rules)


# The largest id a row can have: primary keys are INTEGER, 32-bit on PostgreSQL (SQLite's 64-bit
# rowids never get there). An id from a URL or a form past it names nothing: check before querying,
# since the database raises on an out-of-range parameter instead of finding no row.
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class TeamOwned:
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)


class Team(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The inbound-mail webhook's secret: its SHA-256 finds the team, the Fernet copy is shown to admins.
    inbound_secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    inbound_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Outreach business hours: sequence steps fall due only inside them, in this time zone.
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/London", server_default="Europe/London")
    work_start_hour: Mapped[int] = mapped_column(Integer, default=9, server_default="9")
    work_end_hour: Mapped[int] = mapped_column(Integer, default=17, server_default="17")
    work_days: Mapped[str] = mapped_column(String(20), default="0,1,2,3,4", server_default="0,1,2,3,4")


class User(TeamOwned, UserMixin, db.Model):
    ROLES = ("admin", "recruiter")
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="recruiter")
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Deactivated by an admin: can't sign in, sessions and extension tokens refused; history kept.
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Moves on when every session must end (deactivation, a new password); a session remembers the
    # value it started with and is refused once they differ.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    team: Mapped[Team] = relationship()

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_active(self) -> bool:   # flask-login refuses to log in an inactive user
        return self.deactivated_at is None


class ExtensionToken(TeamOwned, db.Model):
    """A per-user bearer token for the extension; only its SHA-256 is stored. Revocable."""
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="Chrome extension")
    # "extension" (the side panel) or "api" (/api/v1): a token works only where its scope says.
    scope: Mapped[str] = mapped_column(String(20), default="extension", server_default="extension")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    user: Mapped[User] = relationship()


class Invite(TeamOwned, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20), default="recruiter")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)


class PasswordReset(TeamOwned, db.Model):
    """An admin-issued password reset link: one use, expiring; only the token's SHA-256 is stored."""
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class Connection(TeamOwned, db.Model):
    """A team's link to one CRM. A team has at most one `active` connection; older ones keep history."""
    STATUSES = ("pending", "connected", "needs_attention", "disconnected")
    id: Mapped[int] = mapped_column(primary_key=True)
    provider_key: Mapped[str] = mapped_column(String(40))
    base_url: Mapped[str] = mapped_column(String(500))
    credentials_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    account_name: Mapped[str | None] = mapped_column(String(200))
    # An outage (services/outage.py): since when calls to the CRM fail to get through, and why, in
    # our words. Set by a failed call, cleared by the next one that gets an answer; not a status,
    # so the syncs keep retrying (needs_attention is for what only the admin can fix).
    unreachable_since: Mapped[datetime | None] = mapped_column(DateTime)
    unreachable_reason: Mapped[str | None] = mapped_column(String(300))
    # Calls per minute for the shared rate budget; None = the provider's documented budget.
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SettingsLayer(TeamOwned, db.Model):
    """Team defaults (user_id NULL) or one user's personal defaults, for one provider.

    `values` maps setting key → value; `locks` lists keys the admin locked (team layer only)."""
    __table_args__ = (UniqueConstraint("team_id", "user_id", "provider_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    provider_key: Mapped[str] = mapped_column(String(40))
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    locks: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Campaign(TeamOwned, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(40), default="outreach")
    # A record type key of the active provider, or "none" (don't sync).
    sync_as: Mapped[str] = mapped_column(String(40), default="candidate")
    # Target areas applied on push: {"job_id", "job_status", "tags": [...], "lists": [...], "status"}.
    sync_options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Advanced "sync override": {"add_<record type>": trigger, ...} beating the team/user value.
    sync_override: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Areas the admin locked for recruiters (sync.settings.CAMPAIGN_LOCKABLE): the panel shows them
    # read-only and the worker ignores a person's own value for them.
    sync_locks: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Archived: hidden from the list and the extension's picker, no new members; history stays.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)
    owner: Mapped[User] = relationship()


class BulkImport(TeamOwned, db.Model):
    """One "Bulk add from CSV" upload into a campaign, from upload to the job's last batch.

    state: uploaded → validated (mapping chosen, report made) → queued → running → done | failed.
    `rows` are the file's cells as read; `profiles` the valid rows to add; `problems` one
    [line number, [problem, ...], {column: cell}] per row that won't be added."""
    STATES = ("uploaded", "validated", "queued", "running", "done", "failed")
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    filename: Mapped[str] = mapped_column(String(255), default="")
    encoding: Mapped[str] = mapped_column(String(20), default="UTF-8")
    header: Mapped[list[str]] = mapped_column(JSON, default=list)
    rows: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    profiles: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(20), default="uploaded")
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class Person(TeamOwned, db.Model):
    """A sourced profile, deduplicated per team on email and on the canonical LinkedIn URL."""
    __table_args__ = (UniqueConstraint("team_id", "email"), UniqueConstraint("team_id", "linkedin_key"))
    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(200))
    linkedin_url: Mapped[str | None] = mapped_column(String(500))
    linkedin_key: Mapped[str | None] = mapped_column(String(200))
    # Values of CRM fields users tagged in the panel, keyed by CRM field key.
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Enrolment(TeamOwned, db.Model):
    __table_args__ = (UniqueConstraint("campaign_id", "person_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    status: Mapped[str] = mapped_column(String(30), default="active")
    # The person's override from the extension: sync_as and sync options (None = inherit).
    sync_as: Mapped[str | None] = mapped_column(String(40))
    sync_options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The person's advanced "Sync Override" ({"add_<record type>": trigger}), beating the campaign's.
    sync_override: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    campaign: Mapped[Campaign] = relationship()
    person: Mapped[Person] = relationship()


class OutreachEvent(TeamOwned, db.Model):
    KINDS = ("added", "email_sent", "linkedin_sent", "call", "reply", "interested", "not_interested",
             "bounced", "opted_out", "manual_update", "cv_added", "resync")
    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolment.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str | None] = mapped_column(String(30))
    body: Mapped[str | None] = mapped_column(Text)
    # For manual_update: the fields the user changed {"title": "new", ...}.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    enrolment: Mapped[Enrolment | None] = relationship()


class SyncIntent(TeamOwned, db.Model):
    """The outbox: one row per (event, connection) that the sync engine must process.

    Written in the same transaction as the event; a dispatcher enqueues it (job id derived from
    the id), a sweeper re-enqueues it if it is stuck. `state` moves
    pending → queued → running → synced | skipped | waiting | parked."""
    STATES = tuple(IntentState)
    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolment.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("outreach_event.id"))
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # How many of those attempts the CRM answered 429: its own ceiling (SYNC_MAX_RATE_LIMITED) counts
    # these alone, so outages before a 429 don't make it park as "the CRM kept answering 429".
    rate_limited: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    record_type: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    event: Mapped[OutreachEvent | None] = relationship()
    person: Mapped[Person] = relationship()
    connection: Mapped[Connection] = relationship()


class AppliedOperation(TeamOwned, db.Model):
    """Idempotency ledger: an operation key is written `started` before the CRM call and `done` after.

    `done` → never repeat; `started` without `done` → the previous attempt died mid-call, so the
    executor verifies against the CRM before acting again."""
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    intent_id: Mapped[int | None] = mapped_column(ForeignKey("sync_intent.id"), index=True)
    state: Mapped[str] = mapped_column(String(10), default="started")
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CrmLink(TeamOwned, db.Model):
    __table_args__ = (UniqueConstraint("person_id", "connection_id", "record_type"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id"))
    record_type: Mapped[str] = mapped_column(String(40))
    remote_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AuditEntry(TeamOwned, db.Model):
    """One CRM operation (or a refusal to make one): what, by which rule, before/after, outcome."""
    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connection.id"), index=True)
    intent_id: Mapped[int | None] = mapped_column(ForeignKey("sync_intent.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    operation: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(String(80), default="")
    record_type: Mapped[str | None] = mapped_column(String(40))
    remote_id: Mapped[str | None] = mapped_column(String(100))
    fields_before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fields_after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[str] = mapped_column(String(20))  # ok | skipped | refused | failed | retry
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class InboundMessage(TeamOwned, db.Model):
    """One email the inbound-mail webhook received. `matched`: its In-Reply-To/References named an
    email Shoal sent, so a reply event was recorded on that enrolment (`event_id`). `unmatched`:
    kept for a person to assign or dismiss, never dropped. The same Message-ID twice is one row."""
    __table_args__ = (UniqueConstraint("team_id", "message_id"),)
    STATUSES = ("matched", "unmatched", "assigned", "dismissed")
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(500))
    in_reply_to: Mapped[str | None] = mapped_column(String(500))
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    from_addr: Mapped[str] = mapped_column(String(254))
    from_name: Mapped[str] = mapped_column(String(200), default="")
    to_addr: Mapped[str] = mapped_column(String(500), default="")
    subject: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), index=True)
    matched_by: Mapped[str | None] = mapped_column(String(40))
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolment.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("outreach_event.id"))
    # One entry per attachment: {"filename", "size", "accepted": bool, "reason", "cv_id"}.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    enrolment: Mapped[Enrolment | None] = relationship()


class CvFile(TeamOwned, db.Model):
    """A CV Shoal holds: uploaded for a person, or attached to a reply (`inbound_id`; no person yet
    while the reply is unmatched). The bytes live in `services.storage` under `storage_key`."""
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))          # pdf | doc | docx, judged by content
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(20))        # upload | reply | api | panel
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# -- outreach (services/outreach): sequences, per-enrolment state, sends and tasks, mailboxes --------
class Sequence(TeamOwned, db.Model):
    """A campaign's outreach sequence as a whole: `draft` until started, then `running` or `paused`."""
    STATUSES = ("draft", "running", "paused")
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    paused_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class SequenceStep(TeamOwned, db.Model):
    """One step: an email (subject and body templates) or a LinkedIn message / call task, `delay_days`
    calendar days then `delay_hours` business hours after the previous step. A step that has runs is
    archived, never deleted, so what was sent stays explained."""
    KINDS = ("email", "linkedin", "call")
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="email")
    delay_days: Mapped[int] = mapped_column(Integer, default=0)
    delay_hours: Mapped[int] = mapped_column(Integer, default=0)
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class SequenceState(TeamOwned, db.Model):
    """One enrolment's place in its campaign's sequence.

    `scheduled`: `next_step_id` is due at `due_at` (counted from `anchor_at`, when the previous
    step finished); `in_progress`: its StepRun is being sent or is an open task; `finished`: no
    steps left; `stopped`: a reply, opt-out, bounce or block ended it (`stopped_reason`)."""
    STATUSES = ("scheduled", "in_progress", "finished", "stopped")
    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    next_step_id: Mapped[int | None] = mapped_column(ForeignKey("sequence_step.id"))
    anchor_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    enrolment: Mapped[Enrolment] = relationship()
    next_step: Mapped[SequenceStep | None] = relationship()


class StepRun(TeamOwned, db.Model):
    """One step for one enrolment: unique per (enrolment, step), the idempotency key of a send.

    Email: queued → sending → sent | retry (→ sending …) | failed | blocked | cancelled | skipped.
    Task (LinkedIn message, call): open → done | cancelled. `message_id` is the Message-ID header
    sent (replies are matched on it); `reason` says why a step was blocked, failed or cancelled."""
    STATES = ("queued", "sending", "retry", "sent", "failed", "blocked", "cancelled", "open", "done", "skipped")
    # Finished with: the sequence moves past it. `failed` is not: the person waits on it until a
    # user retries or skips the step (an error is shown, nothing is sent behind their back).
    FINAL = ("sent", "blocked", "cancelled", "done", "skipped")
    __table_args__ = (UniqueConstraint("enrolment_id", "step_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), index=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("sequence_step.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("mailbox.id"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    subject: Mapped[str | None] = mapped_column(String(300))
    message_id: Mapped[str | None] = mapped_column(String(250), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    enrolment: Mapped[Enrolment] = relationship()
    step: Mapped[SequenceStep] = relationship()


class Mailbox(TeamOwned, db.Model):
    """A user's SMTP account for sequence emails. The password is encrypted at rest (crypto.py),
    never rendered back. `daily_cap` sends per day (team's time zone), `spacing_seconds` between two."""
    SECURITY = ("starttls", "tls", "none")
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    from_name: Mapped[str] = mapped_column(String(200), default="")
    from_address: Mapped[str] = mapped_column(String(254))
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer, default=587)
    security: Mapped[str] = mapped_column(String(10), default="starttls")
    username: Mapped[str | None] = mapped_column(String(254))
    password_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    signature: Mapped[str | None] = mapped_column(Text)
    daily_cap: Mapped[int] = mapped_column(Integer, default=200)
    spacing_seconds: Mapped[int] = mapped_column(Integer, default=60)
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    test_state: Mapped[str | None] = mapped_column(String(20))   # queued | ok | failed
    test_message: Mapped[str | None] = mapped_column(Text)
    tested_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Suppression(TeamOwned, db.Model):
    """The team's do-not-email list: an address, or a whole domain written `@example.com`."""
    __table_args__ = (UniqueConstraint("team_id", "value"),)
    REASONS = ("manual", "opted_out", "bounced")
    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str] = mapped_column(String(20), default="manual")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiIdempotencyKey(TeamOwned, db.Model):
    """An `Idempotency-Key` an API client sent with an event: the same key again (with the same
    request) answers the event it recorded instead of recording another."""
    __table_args__ = (UniqueConstraint("team_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))   # SHA-256 of the request it was first used with
    event_id: Mapped[int | None] = mapped_column(ForeignKey("outreach_event.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


def team_query(model: type, team_id: int):
    """`select(model)` already filtered to one team: the base of every blueprint query."""
    return select(model).where(model.team_id == team_id)
