""""What will be written" for the extension panel, before the recruiter clicks Add.

It layers the settings exactly as a sync job will (provider defaults → team → this user → the
campaign's sync override; the person's "sync as" beats the campaign's), then runs the pure planner
through `sync.preview`. It makes no CRM call (web requests never do): the CRM state is "not found"
unless a CrmLink already points at a record, so the preview says what happens if the worker's
lookup finds nothing, and lists what the linked record will get otherwise."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_

from core import db
from models import Campaign, Connection, CrmLink, Person, User, team_query
from providers import get_provider
from services.people import linkedin_key
from services.push.context import PERSON_FIELDS, resolve_settings
from sync.planner import resolve_target
from sync.preview import Preview, preview
from sync.types import CrmState, PersonInfo, ProviderSpec


@dataclass(frozen=True)
class PanelPreview:
    preview: Preview
    crm_name: str
    linked_remote_id: str | None     # the record a CrmLink already points at, if any


def known_person(team_id: int, profile: dict[str, Any]) -> Person | None:
    """The team's Person this profile would be deduplicated onto (email or LinkedIn URL), if any."""
    conds = []
    email = str(profile.get("email") or "").strip().lower()
    if email:
        conds.append(Person.email == email)
    key = linkedin_key(profile.get("linkedin_url"))
    if key:
        conds.append(Person.linkedin_key == key)
    if not conds:
        return None
    return db.session.scalars(team_query(Person, team_id).where(or_(*conds)).limit(1)).first()


def _existing_link(team_id: int, conn: Connection, record_type: str,
                   profile: dict[str, Any]) -> CrmLink | None:
    person = known_person(team_id, profile)
    if person is None:
        return None
    return db.session.scalars(team_query(CrmLink, team_id).where(
        CrmLink.person_id == person.id, CrmLink.connection_id == conn.id,
        CrmLink.record_type == record_type)).first()


def preview_enrolment(user: User, campaign: Campaign, conn: Connection, profile: dict[str, Any],
                      sync_as: str | None) -> PanelPreview:
    """Preview adding `profile` to `campaign` (same team as `user`) with an optional sync-as override."""
    assert campaign.team_id == user.team_id == conn.team_id
    provider_cls = get_provider(conn.provider_key)
    spec = ProviderSpec.from_provider(provider_cls)
    # The sync job's own resolver, so the preview cannot drift from what the worker will write.
    settings = resolve_settings(user.team_id, user.id, spec, campaign.sync_override or {})
    target = resolve_target(campaign.sync_as, campaign.sync_options or {}, sync_as, None, spec.record_types)
    person = PersonInfo(**{k: profile.get(k) for k in PERSON_FIELDS})
    link = _existing_link(user.team_id, conn, target.record_type, profile) if target.record_type else None
    state = (CrmState(target.record_type, remote_id=link.remote_id, linked_before=True, matched_by="link")
             if link else None)
    pv = preview(settings, person, target, state, capabilities=spec.capabilities,
                 crm_name=provider_cls.display_name)
    return PanelPreview(pv, provider_cls.display_name, link.remote_id if link else None)
