"""Helpers for the tests of recording activity and editing people (tests/blueprints/test_member_events.py,
test_person_edits.py): a recruiter whose team is connected to the CATS sandbox over a socket, a
campaign member added on the campaign page, and the two forms submitted the way a browser does."""
from __future__ import annotations

import re

from sqlalchemy import func, select
from sync_support import campaign, connect, profile, sandbox_state

from core import db
from models import Enrolment, OutreachEvent, SettingsLayer, SyncIntent

TOKEN = re.compile(r'name="submission" value="([^"]+)"')


def candidates(server, email):
    return [r for r in sandbox_state(server)["tables"].get("candidates", []) if email in str(r).lower()]


def notes_on(server, candidate):
    """The CATS activities (notes) on one candidate, oldest first."""
    rows = sandbox_state(server)["tables"].get("activities", [])
    return sorted((a for a in rows if a["data_item"] == {"id": candidate["id"], "type": "candidate"}),
                  key=lambda a: a["id"])


def set_team(user, values):
    """Upsert the team's CATS settings layer (one row per team and provider)."""
    layer = db.session.scalars(select(SettingsLayer).where(SettingsLayer.team_id == user.team_id,
                                                           SettingsLayer.user_id.is_(None))).first()
    if layer is None:
        layer = SettingsLayer(team_id=user.team_id, user_id=None, provider_key="cats", values={})
        db.session.add(layer)
    layer.values = {**layer.values, **values}
    db.session.commit()


def start(logged_in, sandbox, run_worker, n, *, add_when=None, settings=None, **person):
    """A recruiter whose team is connected to the CATS sandbox, a campaign, and one member added
    on the campaign page; the worker has run the "added" intent."""
    server = sandbox("cats")
    b = logged_in("recruiter")
    connect(b.user, "cats", server)
    if settings:
        set_team(b.user, settings)
    camp = campaign(b.user, sync_override={"add_candidate": add_when} if add_when else {})
    r = b.post(f"/campaigns/{camp.id}/members", profile(n, **person), page=f"/campaigns/{camp.id}")
    assert r.status_code == 303, r.get_data(as_text=True)
    enrolment = db.session.scalars(select(Enrolment).where(Enrolment.campaign_id == camp.id)).one()
    run_worker()
    return server, b, enrolment


def record(b, enrolment, kind, note=None, *, token=None, htmx=True):
    """Submit the member row's "Record activity" form, with the submission token the page rendered."""
    page = f"/campaigns/{enrolment.campaign_id}"
    if token is None:
        html = b.get(page).get_data(as_text=True)
        token = TOKEN.search(html[html.index(f'id="member-{enrolment.id}-activity"'):]).group(1)
    else:
        page = "/campaigns/"    # any page of the user's own, for the CSRF token
    data = {"kind": kind, "submission": token}
    if note is not None:
        data["note"] = note
    return b.post(f"/people/enrolments/{enrolment.id}/activity", data, page=page, htmx=htmx)


def intent_of(kind, person_id):
    db.session.expire_all()
    return db.session.scalars(select(SyncIntent).join(OutreachEvent, OutreachEvent.id == SyncIntent.event_id)
                              .where(OutreachEvent.kind == kind, SyncIntent.person_id == person_id)
                              .order_by(SyncIntent.id.desc())).first()


def edit(b, person, **changes):
    form = {k: getattr(person, k) or "" for k in ("first_name", "last_name", "email", "phone", "title",
                                                   "company", "location", "linkedin_url")}
    form.update(changes)
    return b.post(f"/people/{person.id}", form, page="/campaigns/", htmx=True)


def count(model):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))
