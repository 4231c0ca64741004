"""The person page fills the panel's CRM fields too: a push waiting for a mandatory custom field
goes as soon as it is filled there; a value of the wrong type is refused with nothing written."""
from __future__ import annotations

from sqlalchemy import func, select
from sync_support import connect, sandbox_state, team_settings

from core import db
from models import Campaign, OutreachEvent, Person, SyncIntent
from services.enrolments import enrol


def _custom(server, name: str) -> str:
    return "custom:" + next(str(r["id"]) for r in sandbox_state(server)["tables"]["custom_field_defs"]
                            if r["name"] == name)


def test_waiting_push_resumes_when_the_person_page_fills_the_mandatory_field(app, sandbox, logged_in, run_worker):
    server = sandbox("cats")
    browser = logged_in("recruiter")
    user = browser.user
    connect(user, "cats", server)
    notice, rtw = _custom(server, "Notice period"), _custom(server, "Right to work")
    team_settings(user, "cats", {"mandatory_fields.candidate": [notice], "displayed_fields.candidate": [rtw]})
    campaign = Campaign(team_id=user.team_id, owner_id=user.id, name="Backend", sync_as="candidate",
                        sync_override={"add_candidate": "added"})
    db.session.add(campaign)
    db.session.commit()
    enrolment, _ = enrol(user, campaign, {"first_name": "Grace", "last_name": "Hopper",
                                          "email": "grace@example.com"})
    run_worker()
    intent = db.session.scalars(select(SyncIntent)).one()
    assert intent.state == "waiting", intent.reason
    person_id = enrolment.person_id
    page = f"/people/{person_id}/crm-fields"
    html = browser.get(page, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Loading CATS's fields" in html and "load delay:1s" in html
    run_worker()
    html = browser.get(page, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Notice period" in html and "(mandatory)" in html
    assert "Waiting: Not added to CATS: fill in the mandatory field(s) Notice period" in html
    assert f'/people/{person_id}/crm-fields' in browser.get(f"/people/{person_id}").get_data(as_text=True)

    events = db.session.scalar(select(func.count()).select_from(OutreachEvent))
    r = browser.post(page, {f"x:{notice}": "3 months", f"x:{rtw}": "maybe"}, page=f"/people/{person_id}", htmx=True)
    assert r.status_code == 422 and "Must be yes or no" in r.get_data(as_text=True)
    assert db.session.get(Person, person_id).extra == {}
    assert db.session.scalar(select(func.count()).select_from(OutreachEvent)) == events

    r = browser.post(page, {f"x:{notice}": "3 months", f"x:{rtw}": "true"}, page=f"/people/{person_id}", htmx=True)
    assert r.status_code == 200 and "Saved." in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Person, person_id).extra == {notice: "3 months", rtw: True}
    run_worker()
    db.session.expire_all()
    intent = db.session.get(SyncIntent, intent.id)
    assert intent.state == "synced", intent.reason
    [cand] = [c for c in sandbox_state(server)["tables"]["candidates"] if c["emails"]["primary"] == "grace@example.com"]
    assert cand["custom_fields"][notice.split(":")[1]] == "3 months"
    assert cand["custom_fields"][rtw.split(":")[1]] is True


def test_another_teams_person_is_404(app, logged_in, make_user):
    browser = logged_in("recruiter")
    other = make_user("recruiter")
    person = Person(team_id=other.team_id, first_name="Secret", extra={})
    db.session.add(person)
    db.session.commit()
    assert browser.get(f"/people/{person.id}/crm-fields").status_code == 404
    r = browser.post(f"/people/{person.id}/crm-fields", {"x:custom:1": "x"}, page="/campaigns/")
    assert r.status_code == 404
