""""What will be written" for the extension panel, before the recruiter clicks Add.

It takes the panel's state (services.panel_state: the settings layered exactly as the worker will,
the person's own Sync as, options, Sync Override, CRM field values and company decision) and runs
the pure planner through `sync.preview`. It makes no CRM call (web requests never do): the CRM
state is "not found" unless a CrmLink already points at a record, or the panel's cached live lookup
found one, so the preview says what the worker will do with what is known now.

It speaks in names, never ids or keys: jobs, tags, lists, statuses and note types as the CRM names
them (from the cached pick-lists), CRM fields by their labels and pick-list values by their option
texts, the linked record and the company without their CRM ids."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import db
from models import CrmLink, team_query
from services.panel_state import PanelState
from services.settings import cached_options
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
    option_texts: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()   # (field, ((id, text), ...))
    reason: str = ""                                 # the plan's reason, without the linked record's id

    def label(self, key: str) -> str:
        return dict(self.fields).get(key, key)

    def show(self, field: str, value: Any) -> str:
        """A row's value in words: a pick-list value by its option text, yes/no, lists joined."""
        texts = dict(dict(self.option_texts).get(field, ()))
        if texts:
            values = value if isinstance(value, list) else [value]
            return ", ".join(texts.get(str(v), str(v)) for v in values if v is not None) or "—"
        return "—" if value is None else _show(value)


GONE = "(a choice the CRM no longer offers)"


def _names(picks: list[list[str]] | None, ids: list[str]) -> str:
    """The CRM's names for `ids`; an id it no longer offers is said so, never shown."""
    if picks is None:
        return "(names still loading from the CRM)"
    by_id = {str(i): str(n) for i, n in picks}
    return ", ".join(by_id.get(str(i), GONE) for i in ids)


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
    texts = tuple((f.key, tuple((str(i), str(t)) for i, t in f.options)) for f in st.fields if f.options)
    # The planner names the linked record by its CRM id ("Update Candidate 4521 in CATS (linked)").
    unid = (lambda text: text.replace(f" {link.remote_id}", "")) if link else (lambda text: text)
    return PanelPreview(pv, st.crm, link.remote_id if link else None, _options(st), tuple(fields),
                        st.company.sentence(st.crm) if st.company else "",
                        tuple(unid(s) for s in _named_steps(st, pv.steps)), texts, unid(pv.reason))


# Steps that name CRM ids (sync.preview), the pick-list whose names replace them, and what follows.
_ID_STEPS = (("Add to job ", "job_id", " at status "), ("Add tags: ", "tags", None),
             ("Add to list ", "lists", None), ("Set status ", "status", None),
             ("Add a note of type ", "note_type", ": "))


def _picks(st: PanelState) -> dict[str, list[list[str]] | None]:
    """Each area's (id, name) pairs: the grey arrow's, and the note types of the settings' cache."""
    out = {area: st.options.choices(area) if st.options else None for area in ("job_id", "tags", "lists", "status")}
    types = ((cached_options(st.conn.id) or {}).get("types") or {}).get(st.record_type or "") if st.conn else None
    out["note_type"] = (types or {}).get("note_types")
    return out


def _named_steps(st: PanelState, steps: tuple[str, ...]) -> tuple[str, ...]:
    picks, labels = _picks(st), st.labels
    record = st.provider.record_type(st.record_type).label if st.provider and st.record_type else "record"
    out = []
    for step in steps:
        if step.startswith("Link to existing "):
            # "Link to existing Candidate 4521 (matched by link)": the record Shoal already links to.
            step = f"Use the {record} this person is already linked to in {st.crm}"
        elif step.startswith("Update "):
            # sync.preview names standard fields; the CRM's own fields go by their CRM labels.
            step = "Update " + ", ".join(labels.get(f.strip(), f.strip()) for f in step[len("Update "):].split(","))
        for prefix, area, tail in _ID_STEPS:
            if step.startswith(prefix):
                rest = step[len(prefix):]
                ids, after = (rest.split(tail, 1)[0], tail + rest.split(tail, 1)[1]) if tail and tail in rest \
                    else (rest, "")
                step = prefix + _names(picks[area], [i.strip() for i in ids.split(",")]) + after
                break
        out.append(step)
    return tuple(out)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
