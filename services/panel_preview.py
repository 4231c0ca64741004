""""What will be written" for the extension panel, before the recruiter clicks Add.

It takes the panel's state (services.panel_state: the settings layered exactly as the worker will,
the person's own Sync as, options, Sync Override, CRM field values and company decision) and runs
the pure planner through `sync.preview`. It makes no CRM call (web requests never do): the CRM
state is "not found" unless a CrmLink already points at a record, or the panel's cached live lookup
found one, so the preview says what the worker will do with what is known now."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import db
from models import CrmLink, team_query
from services.panel_state import PanelState
from sync.preview import Preview, preview
from sync.types import CrmState


@dataclass(frozen=True)
class PanelPreview:
    preview: Preview
    crm_name: str
    linked_remote_id: str | None     # the record a CrmLink already points at, if any
    options: tuple[tuple[str, str, str], ...] = ()   # (label, value, whose: "this person" | "campaign")
    fields: tuple[tuple[str, str], ...] = ()         # (CRM field label, value) of the panel's fields
    company: str = ""                                # the company decision, as a sentence
    steps: tuple[str, ...] = ()                      # the plan's steps, ids named as the CRM names them

    def label(self, key: str) -> str:
        return dict(self.fields).get(key, key)


def _names(picks: list[list[str]] | None, ids: list[str]) -> str:
    by_id = {str(i): str(n) for i, n in picks or ()}
    return ", ".join(by_id.get(str(i), str(i)) for i in ids)


def _options(st: PanelState) -> tuple[tuple[str, str, str], ...]:
    view = st.options
    if view is None or st.target is None:
        return ()
    out = []
    mine = st.person_options or {}
    opts = st.target.sync_options
    values = {"job_id": [opts.job_id] if opts.job_id else [], "job_status": [opts.job_status] if opts.job_status else [],
              "tags": list(opts.tags), "lists": list(opts.lists), "status": [opts.status] if opts.status else []}
    for key, label in view.areas:
        if not values[key] and key not in mine:
            continue
        shown = _names(view.choices(key), values[key]) if values[key] else "none"
        out.append((label, shown, "this person" if key in mine else "campaign"))
    whose = {"person": "this person", "campaign": "campaign"}.get(view.trigger_layer, "team settings")
    out.append(("When to add", dict(view.triggers).get(view.trigger, view.trigger), whose))
    return tuple(out)


def preview_state(st: PanelState) -> PanelPreview | None:
    """Preview adding the person as the panel stands. None when no CRM is connected."""
    if st.conn is None or st.provider is None or st.settings is None or st.target is None or st.spec is None:
        return None
    rt = st.target.record_type
    link = None
    if rt and st.person is not None:
        link = db.session.scalars(team_query(CrmLink, st.user.team_id).where(
            CrmLink.person_id == st.person.id, CrmLink.connection_id == st.conn.id,
            CrmLink.record_type == rt)).first()
    state = CrmState(rt, remote_id=link.remote_id, linked_before=True, matched_by="link") if link and rt else None
    pv = preview(st.settings, st.person_info(), st.target, state, capabilities=st.spec.capabilities,
                 crm_name=st.crm)
    labels = st.labels
    fields: list[tuple[str, Any]] = [(labels.get(k, k), _show(v)) for k, v in st.extra.items()
                                     if k in {f.key for f in st.fields}]
    return PanelPreview(pv, st.crm, link.remote_id if link else None, _options(st), tuple(fields),
                        st.company.sentence(st.crm) if st.company else "", _named_steps(st, pv.steps))


# Steps that name CRM ids (sync.preview), and the pick-list whose names replace them.
_ID_STEPS = (("Add to job ", "job_id", " at status "), ("Add tags: ", "tags", None),
             ("Add to list ", "lists", None), ("Set status ", "status", None))


def _named_steps(st: PanelState, steps: tuple[str, ...]) -> tuple[str, ...]:
    if st.options is None:
        return steps
    out = []
    for step in steps:
        for prefix, area, tail in _ID_STEPS:
            picks = st.options.choices(area)
            if step.startswith(prefix) and picks:
                rest = step[len(prefix):]
                ids, after = (rest.split(tail, 1)[0], tail + rest.split(tail, 1)[1]) if tail and tail in rest \
                    else (rest, "")
                step = prefix + _names(picks, [i.strip() for i in ids.split(",")]) + after
                break
        out.append(step)
    return tuple(out)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
