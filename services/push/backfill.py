"""Rule 5 back-fill at run time (DESIGN §5): when a push creates or links the person's record, the
notes that waited for that record go in the same run, *before* the trigger's own note, so the CRM
receives the notes in the order the events happened.

The runner calls, for a plan with `backfill=True` when the context says the person has other
waiting intents (`IntentContext.has_waiting`, an EXISTS in the context query):

    waiting = waiting_intents(intent)                    # the one SELECT (also used to wake the rest)
    ops, filled = with_waiting_notes(ctx, plan, waiting, state.remote_id)
    executor.apply(ops)
    mark_backfilled(filled, intent.id)                   # synced in the runner's settle commit

Each back-filled note has the key its own intent's run would use (`sync.ops.note_op`), so if the
process dies before the settle commit and those intents run again, the ledger makes their own
note a no-op. Waiting intents the back-fill doesn't cover (a push refused for mandatory fields, a
note waiting for another record type) are re-dispatched by the runner from the same rows; a push
for a person with nothing waiting reads no waiting rows at all.

Which waiting intents are notes: the planner's only `wait` outcome is a note waiting for its record
(rule 5); the other way to be `waiting` is a refused push (rule 4), whose run wrote a `refuse` audit
row. So a waiting intent without one, whose event makes a note, is a waiting note. (The trigger
intent's settings can't tell: another campaign of the person's may fire on other events.)
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, select

from core import db
from models import AuditEntry, Campaign, Enrolment, OutreachEvent, SyncIntent
from services.push.context import IntentContext, event_info, resolve_settings
from sync import planner
from sync.types import IntentState, Operation, Plan, ResolvedSettings, WaitingNote


@dataclass(frozen=True)
class Waiting:
    """One waiting intent, its event (None without one), whether it waits as a refused push, and
    whose settings its own run resolves: (the enrolling user, the campaign and its sync override)."""
    intent: SyncIntent
    event: OutreachEvent | None
    refused: bool
    added_by_id: int | None = None
    campaign_id: int | None = None
    sync_override: dict | None = None


def waiting_intents(intent: SyncIntent) -> list[Waiting]:
    """This person's other `waiting` intents on the intent's connection, oldest first (one query).
    Team-scoped, the event's, enrolment's and campaign's joins included. The set can't change under
    us: every state change of this person's intents runs under the person lock the caller holds."""
    team_id = intent.team_id
    own_event = and_(OutreachEvent.id == SyncIntent.event_id, OutreachEvent.team_id == team_id)
    own_enrolment = and_(Enrolment.id == SyncIntent.enrolment_id, Enrolment.team_id == team_id)
    own_campaign = and_(Campaign.id == Enrolment.campaign_id, Campaign.team_id == team_id)
    refused = exists().where(AuditEntry.intent_id == SyncIntent.id, AuditEntry.operation == "refuse")
    rows = db.session.execute(
        select(SyncIntent, OutreachEvent, refused, Enrolment.added_by_id, Campaign.id, Campaign.sync_override)
        .outerjoin(OutreachEvent, own_event).outerjoin(Enrolment, own_enrolment).outerjoin(Campaign, own_campaign)
        .where(SyncIntent.person_id == intent.person_id, SyncIntent.connection_id == intent.connection_id,
               SyncIntent.team_id == team_id, SyncIntent.state == IntentState.WAITING, SyncIntent.id != intent.id)
        .order_by(SyncIntent.id))
    return [Waiting(row, event, bool(was_refused), user_id, campaign_id, override)
            for row, event, was_refused, user_id, campaign_id, override in rows]


def with_waiting_notes(ctx: IntentContext, plan: Plan, waiting: list[Waiting],
                       remote_id: str | None) -> tuple[tuple[Operation, ...], list[SyncIntent]]:
    """The plan's operations with the waiting notes slotted in before the trigger's own note
    (`planner.with_backfill`), and the intents those notes belong to.

    `remote_id` is the record the plan links or updates, None when it creates one (the notes then
    use the id the create returns). Only notes waiting for this plan's record type qualify; each is
    made under the settings its own run would resolve (its recruiter's and campaign's), and
    `planner.backfill_notes` drops events that under those settings make no note."""
    rt = plan.record_type
    # Keyed by event: one intent per (event, connection), its key is "evt<event>-conn<connection>".
    notes = {w.event.id: w for w in waiting
             if w.event is not None and not w.refused and w.intent.record_type == rt}
    if not notes or rt is None:
        return plan.operations, []
    own: dict[tuple[int | None, int | None], ResolvedSettings] = {}
    waiting_notes = [WaitingNote(w.intent.idempotency_key, event_info(w.event), _settings_of(ctx, w, own))
                     for w in notes.values()]
    ops = planner.backfill_notes(waiting_notes, ctx.settings, rt, remote_id, capabilities=ctx.capabilities)
    return planner.with_backfill(plan.operations, ops), [notes[op.params["event_id"]].intent for op in ops]


def _settings_of(ctx: IntentContext, w: Waiting,
                 resolved: dict[tuple[int | None, int | None], ResolvedSettings]) -> ResolvedSettings | None:
    """The settings the waiting intent's own run would resolve, or None where they are the push's
    own (the same recruiter's enrolment in the same campaign: the usual case, no extra query)."""
    source = (w.added_by_id, w.campaign_id)
    if source == ctx.settings_source:
        return None
    if source not in resolved:
        resolved[source] = resolve_settings(ctx.intent.team_id, w.added_by_id, ctx.spec, w.sync_override or {})
    return resolved[source]


def mark_backfilled(filled: list[SyncIntent], intent_id: int) -> None:
    """Settle the back-filled intents as synced. Not committed here: the runner's settle commit
    writes them with the notes' `done` rows and audit entries, so neither lands without the other."""
    reason = f"Note back-filled with intent {intent_id}"
    for row in filled:
        row.state, row.reason, row.next_attempt_at = IntentState.SYNCED, reason, None
