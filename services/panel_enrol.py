"""Add from the panel: the person's options, CRM field values and company choice checked against
the CRM (through the caches), mandatory fields enforced, then ONE enrolment transaction.

Order matters for "nothing written half-way": every check runs before `enrol()` opens the write,
and what the panel chose for the person (their CRM field values, a picked company) is set inside
that same transaction (`on_person`), before the push is queued, so the worker reads it. Adding a
person already in the campaign changes nothing about the enrolment, but new CRM field values (or
a picked company) are kept and recorded as one edit, which wakes a push waiting on them (rule 4)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError

from models import Campaign, Enrolment, OutreachEvent, Person, SyncIntent, User
from services import panel_fields as pf
from services.enrolments import enrol, record_event
from services.panel_state import Extras, PanelState, build


@dataclass
class Added:
    enrolment: Enrolment
    created: bool
    state: PanelState
    edit: OutreachEvent | None = None     # the edit recorded on an existing enrolment, if any
    queued: list[SyncIntent] = field(default_factory=list)   # a new enrolment's intents: all it has


def check(user: User, campaign: Campaign, profile: dict[str, Any], sync_as: str | None,
          extras: Extras) -> PanelState:
    """Everything Add checks, without writing: ValidationError naming each field otherwise."""
    st = build(user, campaign, profile, sync_as, extras, strict=True, view=False)
    if st.missing:
        names = ", ".join(st.missing_labels)
        raise ValidationError({key: [f"{label} is mandatory for {st.crm}: fill it in before adding."]
                               for key, label in zip(st.missing, st.missing_labels)}
                              | {"_mandatory": [f"Fill in the mandatory field(s) {names} before adding."]})
    return st


def add(user: User, campaign: Campaign, profile: dict[str, Any], sync_as: str | None, extras: Extras) -> Added:
    st = check(user, campaign, profile, sync_as, extras)
    chosen = st.company.exact["name"] if st.company and st.company.chosen and st.company.exact else None
    edits: dict[str, Any] = {}

    def on_person(person: Person) -> None:
        merged, changed = pf.merge_extra(person.extra, st.field_values)
        if changed:
            person.extra = merged       # a new dict: the JSON column sees the change
            edits.update(changed)
        if chosen and person.company != chosen:
            person.company = chosen
            edits["company"] = chosen

    queued: list[SyncIntent] = []
    # The person the check found (or None: enrol finds or creates them), so they are read once.
    enrolment, created = enrol(user, campaign, profile, sync_as=sync_as, sync_options=st.person_options,
                               sync_override=st.person_override, on_person=on_person, person=st.person,
                               connection=st.conn, queued=queued)
    event = None
    if not created and edits:
        event = record_event(enrolment, "manual_update", data=edits, created_by_id=user.id)
    return Added(enrolment, created, st, event, queued)
