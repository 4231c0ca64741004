"""The side panel's "What happened" box for a known person: record an event on one of their
campaigns (through the sync engine) and upload their CV, with the extension token; bad input is a
422 with the reason and nothing written; another team's person or member is a 404."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from core import db
from models import CvFile, OutreachEvent, SyncIntent
from services.enrolments import enrol
from services.tokens import issue_token
from sync_support import campaign, connect, profile

PDF = b"%PDF-1.4\n% CV\n%%EOF\n"


def panel(app, user):
    token = issue_token(user)[1]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "HX-Request": "true"}
    return client, headers


def count(model, **where):
    q = select(func.count()).select_from(model)
    for k, v in where.items():
        q = q.where(getattr(model, k) == v)
    return db.session.scalar(q)


def test_record_an_event_from_the_panel_goes_through_the_sync_engine(app, make_user, sandbox, run_worker):
    user = make_user("recruiter")
    connect(user, "cats", sandbox("cats"))
    enrolment, _ = enrol(user, campaign(user, sync_override={"add_candidate": "reply"}), profile(3))
    client, h = panel(app, user)
    box = client.get(f"/panel/people/{enrolment.person_id}/activity", headers=h).get_data(as_text=True)
    assert 'id="panel-activity"' in box and f'value="{enrolment.id}"' in box and "No CV yet" in box
    token = box.split('name="submission" value="')[1].split('"')[0]
    form = {"enrolment_id": str(enrolment.id), "kind": "reply", "note": "Keen", "submission": token}
    r = client.post("/panel/activity", data=form, headers=h)
    assert r.status_code == 200 and "Recorded: Replied." in r.get_data(as_text=True)
    assert "/panel/intents/" in r.get_data(as_text=True)          # the self-polling status
    assert count(OutreachEvent, kind="reply") == 1
    again = client.post("/panel/activity", data=form, headers=h)  # a double click: one event
    assert "already recorded" in again.get_data(as_text=True) and count(OutreachEvent, kind="reply") == 1
    run_worker()
    reply = db.session.scalars(select(SyncIntent).order_by(SyncIntent.id.desc())).first()
    assert reply.state == "synced"


def test_bad_activity_and_other_teams_are_refused(app, make_user):
    user = make_user("recruiter")
    enrolment, _ = enrol(user, campaign(user, sync_as="none"), profile(4))
    client, h = panel(app, user)
    r = client.post("/panel/activity", data={"enrolment_id": str(enrolment.id), "kind": "telepathy"}, headers=h)
    assert r.status_code == 422 and "Unknown activity" in r.get_data(as_text=True)
    other_client, oh = panel(app, make_user("recruiter"))
    assert other_client.get(f"/panel/people/{enrolment.person_id}/activity", headers=oh).status_code == 404
    r = other_client.post("/panel/activity", data={"enrolment_id": str(enrolment.id), "kind": "reply"}, headers=oh)
    assert r.status_code == 404
    assert other_client.post(f"/panel/people/{enrolment.person_id}/cv", headers=oh,
                             data={"cv": (io.BytesIO(PDF), "cv.pdf")}).status_code == 404
    assert client.get(f"/panel/people/{enrolment.person_id}/activity").status_code == 401   # no token
    assert count(OutreachEvent) == 1


def test_cv_upload_from_the_panel(app, make_user):
    user = make_user("recruiter")
    enrolment, _ = enrol(user, campaign(user, sync_as="none"), profile(5))
    client, h = panel(app, user)
    url = f"/panel/people/{enrolment.person_id}/cv"
    r = client.post(url, data={"cv": (io.BytesIO(PDF), "Ada.pdf")}, headers=h)
    assert r.status_code == 200 and "CV Ada.pdf kept." in r.get_data(as_text=True)
    assert db.session.scalars(select(CvFile)).one().source == "panel"
    r = client.post(url, data={"cv": (io.BytesIO(b"MZ\x90\x00" + b"\0" * 64), "cv.pdf")}, headers=h)
    assert r.status_code == 422 and "Windows program" in r.get_data(as_text=True)
    r = client.post(url, data={"cv": (io.BytesIO(b"%PDF-1.4\n" + b"0" * (30 * 1024 * 1024)), "big.pdf")}, headers=h)
    assert r.status_code == 422 and "30.0 MB" in r.get_data(as_text=True)
    # The panel's other routes keep their small body limit.
    assert client.post("/panel/profile", data={"first_name": "x" * (100 * 1024)}, headers=h).status_code == 400
    assert count(CvFile) == 1
