"""The panel's fragments on `blueprints.panel.bp`: the person card, the grey arrow's options with the
Displayed Fields and the company decision (`/panel/extras`), the live CRM match (`/panel/match`),
Preview and Add (htmx form and JSON).

Every fragment that waits on the CRM (choices, fields, companies, the match) is answered from a
worker-filled cache and polls itself until it is there (services.panel_lookup); the web process
never calls a CRM. Add checks everything before writing anything (422 naming the field)."""
from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from marshmallow import ValidationError
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from blueprints.panel import PanelError, _render, _user, bp
from blueprints.panel_schemas import (EnrolJsonSchema, EnrolTargetSchema, ProfileSchema, describe,
                                      form_fields, form_options, split_form)
from core import db
from models import Campaign, CrmLink, Enrolment, Person, SyncIntent, team_query
from services import panel_lookup
from services.campaign_picker import picker as campaign_picker
from services.panel_enrol import add
from services.panel_options import view as options_view
from services.panel_preview import preview_state
from services.panel_state import Extras, build, known_person, provider_for
from sync.types import IntentState


def _profile(raw: dict[str, Any], strict: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(profile, errors). Rendering keeps the valid fields; Add and Preview refuse any error."""
    try:
        return ProfileSchema(partial=not strict).load(raw), {}
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {}
        if strict:
            raise PanelError(422, "Please fix these before adding:", errors) from None
        return {k: v for k, v in raw.items() if k not in errors and isinstance(v, str)}, errors


def _campaign(campaign_id: Any) -> Campaign:
    campaign = db.session.scalars(team_query(Campaign, _user().team_id).where(
        Campaign.id == campaign_id)).first()
    if campaign is None:
        raise PanelError(404, "That campaign does not exist in your team.")
    if campaign.archived_at is not None:
        raise PanelError(409, f"“{campaign.name}” is archived: restore it in Shoal to add people to it.")
    return campaign


def _sync_as(value: str | None) -> str | None:
    """The person's Sync as: a record type of the connected CRM, "none", or None (the campaign's)."""
    value = value or None
    if value is not None and value != "none":
        _conn, provider = provider_for(_user().team_id)
        if value not in ({rt.key for rt in provider.record_types} if provider else set()):
            raise PanelError(422, "Please fix these before adding:",
                             {"sync_as": [f"{value!r} is not a record type of the connected CRM."]})
    return value


# A push of the person still on its way to the CRM: the match fragment keeps polling until it lands.
IN_FLIGHT = (IntentState.PENDING, IntentState.QUEUED, IntentState.RUNNING)


def _match(profile: dict[str, Any], *, person: Person | None = None, pushing: bool | None = None,
           queue: bool = True, only_in: Campaign | None = None) -> dict[str, Any]:
    """What Shoal knows (its person, CrmLinks, campaigns), the cached live CRM lookup, and whether a
    push of the person is in flight (`pushing`): the fragment polls while `looking` or `pushing`.
    Add passes what it already knows (the person, its intents) and `queue=False`: the lookup, if
    not cached yet, is queued by the fragment's first poll rather than inside Add's own request.
    `only_in`: the person is the one Add just created in this campaign, so they have no CRM link
    and no other campaign yet (nothing to read; the fragment's polls read it all again)."""
    user = _user()
    conn, provider = provider_for(user.team_id)
    person = person or known_person(user.team_id, profile)
    links, campaigns = [], []
    if person is not None and only_in is not None:
        campaigns = [only_in]
    elif person is not None:
        if conn is not None:
            links = db.session.scalars(team_query(CrmLink, user.team_id).where(
                CrmLink.person_id == person.id, CrmLink.connection_id == conn.id)).all()
            pushing = pushing if pushing is not None else bool(db.session.scalar(select(exists().where(
                SyncIntent.team_id == user.team_id, SyncIntent.person_id == person.id,
                SyncIntent.connection_id == conn.id, SyncIntent.state.in_(IN_FLIGHT)))))
        # Names only ("In: ..."), as plain rows: no Campaign entities with their JSON settings.
        campaigns = db.session.connection().execute(select(Campaign.id, Campaign.name).join(
            Enrolment, Enrolment.campaign_id == Campaign.id).where(
            Campaign.team_id == user.team_id, Enrolment.person_id == person.id).order_by(Campaign.name)).all()
    query = {"email": (profile.get("email") or "").strip().lower(),
             "linkedin_url": (profile.get("linkedin_url") or "").strip()}
    live, looking = None, False
    if conn is not None and provider is not None and (query["email"] or query["linkedin_url"]):
        live = (panel_lookup.cached if queue else panel_lookup.peek)("match", conn, query)
        looking = live is None
    linked = {(link.record_type, link.remote_id) for link in links}
    matches = [m for m in (live or {}).get("matches") or [] if (m["record_type"], m["remote_id"]) not in linked]
    off = [m for m in (live or {}).get("matches") or [] if m.get("off_limits")]
    return {"person": person, "links": links, "campaigns": campaigns, "live": live, "looking": looking,
            "pushing": bool(pushing),
            "matches": matches, "off_limits": off, "query": query, "connection": conn, "provider": provider,
            "person_url": url_for("people.show", person_id=person.id, _external=True) if person else None}


@bp.route("/", methods=["GET", "POST"])
@bp.route("/profile", methods=["POST"])
def profile_card():
    """The person card for a captured profile, with the campaign picker and the Add form.

    POST so the scraped profile (personal data) stays out of URLs and access logs."""
    raw = split_form(request.form.to_dict())[1] if request.method == "POST" else {}
    profile, errors = _profile(raw, strict=False)
    user = _user()
    conn, provider = provider_for(user.team_id)
    picker = campaign_picker(user.team_id)
    return _render("panel/_card.html", profile=profile, errors=describe(errors), campaigns=picker.count,
                   campaign_options=picker.options, connection=conn, provider=provider, match=_match(profile),
                   st=None)


@bp.post("/match")
def match():
    """The live CRM match and off-limits badge; polls itself until the worker's lookup is cached."""
    profile, _errors = _profile(split_form(request.form.to_dict())[1], strict=False)
    return _render("panel/_match.html", match=_match(profile))


def _extras() -> Extras:
    if request.is_json:
        return Extras()
    return Extras(form_options(request.form), form_fields(request.form), request.form.get("company_choice"))


@bp.post("/extras")
def extras():
    """The grey arrow's options, the CRM fields and the company decision for the chosen campaign
    and Sync as, pre-set from the campaign, keeping what the form already holds."""
    target_raw, profile_raw = split_form(request.form.to_dict())
    profile, _errors = _profile(profile_raw, strict=False)
    st = None
    try:
        target = EnrolTargetSchema().load(target_raw)
    except ValidationError:
        target = None     # no campaign chosen yet
    if target is not None:
        campaign = _campaign(target["campaign_id"])
        sync_as = _sync_as(target.get("sync_as"))
        if request.args.get("refresh"):
            _refresh(campaign, sync_as, profile)
        st = build(_user(), campaign, profile, sync_as, _extras(), strict=False)
    return _render("panel/_extras.html", st=st, open=bool(request.form.get("options_open")))


def _refresh(campaign: Campaign, sync_as: str | None, profile: dict[str, Any]) -> None:
    """"Refresh": read the CRM's choices, fields and companies again."""
    st = build(_user(), campaign, profile, sync_as, Extras(), strict=False)
    if st.conn is None or st.spec is None or st.record_type is None:
        return
    options_view(st.conn, st.spec, campaign, st.record_type, st.settings, refresh=True)  # type: ignore[arg-type]
    panel_lookup.cached("fields", st.conn, {"record_type": st.record_type}, refresh=True)
    if profile.get("company"):
        panel_lookup.cached("company", st.conn, {"name": profile["company"].strip().lower()}, refresh=True)


def _load_form() -> tuple[Campaign, str | None, dict[str, Any], Extras]:
    target_raw, profile_raw = split_form(request.form.to_dict())
    errors: dict[str, Any] = {}
    target: dict[str, Any] = {}
    try:
        target = EnrolTargetSchema().load(target_raw)
    except ValidationError as exc:
        errors.update(exc.messages if isinstance(exc.messages, dict) else {})
    try:
        profile = ProfileSchema().load(profile_raw)
    except ValidationError as exc:
        errors.update(exc.messages if isinstance(exc.messages, dict) else {})
    if errors:
        raise PanelError(422, "Please fix these before adding:", errors)
    return _campaign(target["campaign_id"]), _sync_as(target.get("sync_as")), profile, _extras()


def _load_json() -> tuple[Campaign, str | None, dict[str, Any], Extras]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise PanelError(400, "The body must be a JSON object.")
    try:
        data = EnrolJsonSchema().load(body)
    except ValidationError as exc:
        raise PanelError(422, "The request is not valid.",
                         exc.messages if isinstance(exc.messages, dict) else {}) from None
    extras = Extras(data.get("sync_options"), data.get("fields_"), data.get("company_choice"))
    return _campaign(data["campaign_id"]), _sync_as(data.get("sync_as")), data["profile"], extras


def _refused(exc: ValidationError) -> PanelError:
    fields = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return PanelError(422, "Please fix these before adding:", fields)


@bp.post("/preview")
def preview():
    """What adding this person would write to the CRM, with their options, fields and company. Writes nothing."""
    campaign, sync_as, profile, extras = _load_form()
    try:
        st = build(_user(), campaign, profile, sync_as, extras, strict=True)
    except ValidationError as exc:
        raise _refused(exc) from None
    return _render("panel/_preview.html", result=preview_state(st), campaign=campaign, st=st)


def _do_add(campaign: Campaign, sync_as: str | None, profile: dict[str, Any], extras: Extras):
    # The answer shows what Add itself just wrote: keep those rows loaded across its commit instead
    # of reading each back (this request's session ends with it; the status fragment polls anyway).
    db.session().expire_on_commit = False
    for attempt in (1, 2):
        try:
            done = add(_user(), campaign, profile, sync_as, extras)
            break
        except ValidationError as exc:
            db.session.rollback()
            raise _refused(exc) from None
        except IntegrityError:
            # Another client added this person (or them to this campaign) between our check and
            # our write, and a unique constraint refused the second copy. Once more: the check
            # now finds what they wrote, and Add answers as for someone already there.
            db.session.rollback()
            if attempt == 2:
                raise PanelError(409, "Someone else is adding this person right now; try again in a moment.") from None
    if done.created:   # a new enrolment has only the intents Add just committed
        return done, done.queued
    intents = db.session.scalars(team_query(SyncIntent, _user().team_id).where(
        SyncIntent.enrolment_id == done.enrolment.id).order_by(SyncIntent.id)).all()
    return done, list(intents)


@bp.post("/enrol")
def enrol_form():
    """Add the person to the chosen campaign (htmx form); answer with the live sync status, and the
    CRM match swapped in out of band: no longer "New to Shoal", it polls until the push lands."""
    campaign, sync_as, profile, extras = _load_form()
    done, intents = _do_add(campaign, sync_as, profile, extras)
    # Nobody matched the profile before this Add (the state's person): the person is new.
    match = _match(profile, person=done.enrolment.person, pushing=any(i.state in IN_FLIGHT for i in intents),
                   queue=False, only_in=campaign if done.state.person is None else None)
    return _render("panel/_added.html", enrolment=done.enrolment, created=done.created, intents=intents,
                   edit=done.edit, match=match)


@bp.post("/api/enrol")
def enrol_json():
    """JSON twin of /panel/enrol: {enrolment_id, person_id, intent_ids, created}."""
    done, intents = _do_add(*_load_json())
    return jsonify({"enrolment_id": done.enrolment.id, "person_id": done.enrolment.person_id,
                    "intent_ids": [i.id for i in intents], "created": done.created}), 201 if done.created else 200

