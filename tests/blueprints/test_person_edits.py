"""The person page's "Edit details", end to end: one manual_update event with only the changed
fields, pushed to the CATS sandbox only with "Sync manual contact updates" on (rule 8); a push
waiting on a mandatory field goes once the field is filled (rule 4); bad input is a 422 with nothing
written. Flask test client (CSRF on), real RQ burst worker, the CATS sandbox over a socket."""
from __future__ import annotations

from people_support import candidates, count, edit, intent_of, set_team, start
from sqlalchemy import select
from sync_support import campaign, profile

from core import db
from models import AuditEntry, OutreachEvent, Person, SyncIntent


def test_manual_edit_is_pushed_only_with_sync_manual_updates_on(logged_in, sandbox, run_worker):
    server, b, enrolment = start(logged_in, sandbox, run_worker, 5)
    person = db.session.get(Person, enrolment.person_id)
    r = edit(b, person, title="Staff Engineer")
    assert r.status_code == 200 and "Saved Title" in r.get_data(as_text=True)
    run_worker()
    event = db.session.scalars(select(OutreachEvent).where(OutreachEvent.kind == "manual_update")).one()
    assert event.data == {"title": "Staff Engineer"} and event.enrolment_id == enrolment.id
    off = intent_of("manual_update", person.id)
    assert off.state == "skipped" and "Sync manual contact updates" in off.reason
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.intent_id == off.id)).all()
    assert any("Sync manual contact updates" in a.summary for a in audit)
    [cand] = candidates(server, "ada5@example.com")
    assert cand["title"] == "Engineer"

    set_team(b.user, {"sync_manual_updates": True, "update_mode.candidate": "always"})
    edit(b, db.session.get(Person, person.id), title="Principal Engineer")
    run_worker()
    assert intent_of("manual_update", person.id).state == "synced"
    [cand] = candidates(server, "ada5@example.com")
    assert cand["title"] == "Principal Engineer"
    page = b.get(f"/people/{person.id}").get_data(as_text=True)
    assert "Details edited" in page and "Title: Principal Engineer" in page


def test_mandatory_field_waits_then_goes_when_filled_on_the_person_page(logged_in, sandbox, run_worker):
    server, b, enrolment = start(logged_in, sandbox, run_worker, 6,
                                 settings={"mandatory_fields.candidate": ["phone"]})
    added = intent_of("added", enrolment.person_id)
    assert added.state == "waiting" and "Phone" in added.reason
    assert candidates(server, "ada6@example.com") == []
    page = b.get(f"/people/{enrolment.person_id}").get_data(as_text=True)
    assert "Waiting" in page and "mandatory field(s) Phone" in page

    r = edit(b, db.session.get(Person, enrolment.person_id), phone="+44 20 7946 0018")
    assert r.status_code == 200
    run_worker()
    assert intent_of("added", enrolment.person_id).state == "synced"
    [cand] = candidates(server, "ada6@example.com")
    assert "+44 20 7946 0018" in cand["phones"].values()


def test_an_edit_rides_on_the_latest_enrolment_that_syncs(logged_in, sandbox, run_worker):
    server, b, enrolment = start(logged_in, sandbox, run_worker, 13,
                                 settings={"sync_manual_updates": True, "update_mode.candidate": "always"})
    later = campaign(b.user, sync_as="none")
    later_member = b.post(f"/campaigns/{later.id}/members", profile(13), page=f"/campaigns/{later.id}")
    assert later_member.status_code == 303
    run_worker()
    edit(b, db.session.get(Person, enrolment.person_id), title="Head of Compilers")
    run_worker()
    event = db.session.scalars(select(OutreachEvent).where(OutreachEvent.kind == "manual_update")).one()
    assert event.enrolment_id == enrolment.id
    [cand] = candidates(server, "ada13@example.com")
    assert cand["title"] == "Head of Compilers"


def test_bad_details_are_422_and_write_nothing(logged_in, sandbox, run_worker):
    _server, b, enrolment = start(logged_in, sandbox, run_worker, 10)
    before = (count(OutreachEvent), count(SyncIntent))
    person = db.session.get(Person, enrolment.person_id)
    other = Person(team_id=person.team_id, first_name="Taken", email="taken@example.com", extra={})
    db.session.add(other)
    db.session.commit()
    for bad in ({"first_name": "<script>x</script>"}, {"last_name": "Love>lace"}, {"first_name": ""},
                {"email": "not-an-email"}, {"email": "taken@example.com"}, {"title": "t" * 201},
                {"linkedin_url": "https://evil.example.com/in/ada"}, {"phone": "call me maybe"}):
        r = edit(b, db.session.get(Person, person.id), **bad)
        assert r.status_code == 422, bad
        assert "field-error" in r.get_data(as_text=True), bad
    assert (count(OutreachEvent), count(SyncIntent)) == before
    db.session.expire_all()
    same = db.session.get(Person, person.id)
    assert (same.first_name, same.last_name, same.email, same.title) == ("Ada10", "Lovelace10",
                                                                         "ada10@example.com", "Engineer")
