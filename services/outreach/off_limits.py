"""Rule 7 at send time: right before an email goes, ask the team's CRM whether the person is
off-limits (itris's "Block emails to recipients marked as off-limits"; any CRM whose adapter
exposes it), through the adapter, in the worker. The decision is the pure planner's
(`sync.planner.email_step`); finding the record is the push's own lookup (`services.push.lookup`),
so an email step and a push can't disagree about who the person is in the CRM."""
from __future__ import annotations

from types import SimpleNamespace

from core import db
from models import AuditEntry, Campaign, Enrolment, Person
from providers import get_provider
from services.connections import active_connection
from services.push.context import PERSON_FIELDS, build_adapter, provider_spec, resolve_settings
from services.push.lookup import crm_state
from sync import planner
from sync.types import BLOCKED, PersonInfo


def blocked_reason(enrolment: Enrolment, person: Person, campaign: Campaign, run_id: int) -> str | None:
    """The reason this email must not go (the CRM marks the person off-limits), or None.
    Raises providers.errors.ProviderError when the CRM can't be asked: the send waits and retries,
    it never goes out unchecked."""
    conn = active_connection(enrolment.team_id)
    if conn is None:
        return None
    provider_cls = get_provider(conn.provider_key)
    spec = provider_spec(provider_cls)
    settings = resolve_settings(enrolment.team_id, enrolment.added_by_id, spec, campaign.sync_override or {})
    target = planner.resolve_target(campaign.sync_as, campaign.sync_options or {}, enrolment.sync_as,
                                    enrolment.sync_options, spec.record_types)
    info = PersonInfo(**{k: getattr(person, k) for k in PERSON_FIELDS}, extra=dict(person.extra or {}))
    key = f"step-run{run_id}-conn{conn.id}"
    crm = provider_cls.display_name
    plan = planner.email_step(settings, info, target.record_type, None, capabilities=spec.capabilities,
                              intent_key=key, crm_name=crm)
    if not plan.needs_lookup:
        return None
    adapter = build_adapter(conn, provider_cls)
    # The lookup reads what it needs of an intent's context by attribute: the person and connection
    # ids, the resolved settings and our person values.
    ctx = SimpleNamespace(intent=SimpleNamespace(person_id=person.id, connection_id=conn.id),
                          settings=settings, person=info)
    state = crm_state(ctx, adapter, target.record_type, plan.operations[0].params)  # type: ignore[arg-type]
    plan = planner.email_step(settings, info, target.record_type, state, capabilities=spec.capabilities,
                              intent_key=key, crm_name=crm)
    if plan.outcome != BLOCKED:
        return None
    op = plan.operations[0]
    db.session.add(AuditEntry(team_id=enrolment.team_id, connection_id=conn.id, person_id=person.id,
                              operation=op.kind, rule=op.rule, record_type=op.record_type,
                              remote_id=op.remote_id, result="refused", summary=plan.reason[:1000]))
    return plan.reason
