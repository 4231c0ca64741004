"""The outreach pages through the Flask test client (CSRF on): the sequence editor (template errors
caught on save with a 422 naming the field and nothing written; header injection in a subject; a
campaign type that takes no such step; start/pause/resume; another team's campaign 404), My tasks,
the mailbox card (password encrypted and never shown; a private host refused; the Test runs in a
worker against a real SMTP server), and the admin outreach settings (recruiter 403)."""
from __future__ import annotations

import pytest
from outreach_support import MONDAY_10AM, Clock, add_steps, make_mailbox, smtp_server
from sqlalchemy import func, select

from core import db
from models import Campaign, Mailbox, OutreachEvent, Sequence, SequenceState, SequenceStep, StepRun, Suppression
from services.enrolments import enrol
from services.outreach import scheduler, steps
from sync_support import profile


@pytest.fixture(autouse=True)
def _clock_and_config(app):
    """Inside business hours whatever the real time; the app's config as it was afterwards."""
    saved = dict(app.config)
    app.config["OUTREACH_CLOCK"] = Clock(MONDAY_10AM)
    yield
    app.config.clear()
    app.config.update(saved)


def _campaign(user, **kw) -> Campaign:
    c = Campaign(team_id=user.team_id, owner_id=user.id, name="Data engineers", sync_as="none", **kw)
    db.session.add(c)
    db.session.commit()
    return c


def _steps() -> int:
    return db.session.scalar(select(func.count()).select_from(SequenceStep))


def test_sequence_page_and_fragment(logged_in):
    b = logged_in("recruiter")
    c = _campaign(b.user)
    page = b.get(f"/campaigns/{c.id}/sequence/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and "No steps yet" in html and "Not started" in html
    assert "has no mailbox yet" in html
    frag = b.get(f"/campaigns/{c.id}/sequence/", headers={"HX-Request": "true"})
    assert "<html" not in frag.get_data(as_text=True) and 'id="sequence"' in frag.get_data(as_text=True)
    assert "HX-Request" in frag.headers["Vary"]


def test_adding_a_step_checks_its_templates(logged_in):
    b = logged_in("recruiter")
    c = _campaign(b.user)
    url, page = f"/campaigns/{c.id}/sequence/steps", f"/campaigns/{c.id}/sequence/"
    bad = b.post(url, {"kind": "email", "subject": "Hi {{ frist_name }}", "body_text": "Hello {{ comapny }}"},
                 page=page, htmx=True)
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "Unknown variable {{ frist_name }}" in html and "Unknown variable {{ comapny }}" in html
    assert 'name="subject"' in html and "Hi {{ frist_name }}" in html        # the form keeps what was typed
    assert _steps() == 0

    injected = b.post(url, {"kind": "email", "subject": "Hi\r\nBcc: all@example.com", "body_text": "x"}, page=page)
    assert injected.status_code == 422 and "line break" in injected.get_data(as_text=True) and _steps() == 0
    broken = b.post(url, {"kind": "email", "subject": "Hi", "body_text": "{% if %}"}, page=page)
    assert broken.status_code == 422 and "Template error on line 1" in broken.get_data(as_text=True)
    nosubject = b.post(url, {"kind": "email", "body_text": "x", "delay_days": "-1"}, page=page)
    assert nosubject.status_code == 422 and "needs a subject" in nosubject.get_data(as_text=True)
    assert "Between 0 and 365 days." in nosubject.get_data(as_text=True)
    for junk in ({"kind": "fax", "body_text": "x"}, {"kind": "email", "subject": "s", "body_text": "b", "delay_hours": "x"}):
        assert b.post(url, junk, page=page).status_code == 422
    assert _steps() == 0

    ok = b.post(url, {"kind": "email", "subject": "Hi {{ first_name }}", "body_text": "Hello from {{ sender_name }}",
                      "delay_days": "", "delay_hours": "2"}, page=page, htmx=True)
    assert ok.status_code == 200 and "Step 1 added" in ok.get_data(as_text=True)
    step = db.session.scalars(select(SequenceStep)).one()
    assert (step.subject, step.delay_days, step.delay_hours, step.body_html) == ("Hi {{ first_name }}", 0, 2, None)


def test_a_campaign_type_decides_which_steps_it_takes(logged_in):
    b = logged_in("recruiter")
    c = _campaign(b.user, type="linkedin")
    r = b.post(f"/campaigns/{c.id}/sequence/steps", {"kind": "email", "subject": "s", "body_text": "b"},
               page=f"/campaigns/{c.id}/sequence/")
    assert r.status_code == 422 and "takes only: LinkedIn message" in r.get_data(as_text=True)
    sourcing = _campaign(b.user, type="sourcing")
    assert "has no outreach steps" in b.get(f"/campaigns/{sourcing.id}/sequence/").get_data(as_text=True)


def test_start_pause_resume_and_edit_a_running_sequence(logged_in, app):
    b = logged_in("recruiter")
    c = _campaign(b.user)
    page = f"/campaigns/{c.id}/sequence/"
    assert b.post(f"/campaigns/{c.id}/sequence/start", page=page).status_code == 422   # no steps yet
    first, second = add_steps(c, {"subject": "One", "body_text": "1"}, {"subject": "Two", "body_text": "2", "delay_days": 3})
    enrol(b.user, c, profile(1))
    r = b.post(f"/campaigns/{c.id}/sequence/start", page=page, follow_redirects=True)
    assert "Sequence started" in r.get_data(as_text=True)
    assert db.session.scalars(select(Sequence.status)).one() == "running"
    state = db.session.scalars(select(SequenceState)).one()
    assert state.status == "scheduled" and state.next_step_id == first.id
    # Someone added to a running campaign starts at step 1 too.
    enrol(b.user, c, profile(2))
    assert db.session.scalar(select(func.count()).select_from(SequenceState)) == 2

    # Edit the second step while the sequence runs: waiting people get the new delay.
    r = b.post(f"/campaigns/{c.id}/sequence/steps/{second.id}", {"kind": "email", "subject": "Two, edited",
                                                                  "body_text": "2", "delay_days": "1"}, page=page)
    assert r.status_code == 303 and db.session.get(SequenceStep, second.id).delay_days == 1
    assert b.get(f"/campaigns/{c.id}/sequence/steps/{second.id}").status_code == 200
    assert b.post(f"/campaigns/{c.id}/sequence/pause", page=page).status_code == 303
    assert db.session.scalars(select(Sequence.status)).one() == "paused"
    assert scheduler.tick()["emails"] == 0
    assert b.post(f"/campaigns/{c.id}/sequence/resume", page=page).status_code == 303
    assert db.session.scalars(select(Sequence.status)).one() == "running"
    r = b.post(f"/campaigns/{c.id}/sequence/steps/{first.id}/move", {"direction": "down"}, page=page)
    assert r.status_code == 303
    assert [s.id for s in db.session.scalars(select(SequenceStep).order_by(SequenceStep.position))] == [second.id, first.id]


def test_editing_a_step_someone_already_had_never_resends_it(logged_in, app, run_worker):
    smtp = smtp_server(app)
    b = logged_in("recruiter")
    make_mailbox(b.user, smtp)
    c = _campaign(b.user)
    first, second = add_steps(c, {"subject": "One", "body_text": "1"}, {"subject": "Two", "body_text": "2", "delay_days": 1})
    enrol(b.user, c, profile(1))
    steps.start(c)
    scheduler.tick()
    run_worker()
    assert len(smtp.catcher.received()) == 1
    page = f"/campaigns/{c.id}/sequence/"
    b.post(f"/campaigns/{c.id}/sequence/steps/{first.id}", {"kind": "email", "subject": "One (v2)", "body_text": "1"}, page=page)
    b.post(f"/campaigns/{c.id}/sequence/steps/{second.id}/move", {"direction": "up"}, page=page)   # now first
    state = db.session.scalars(select(SequenceState)).one()
    assert state.next_step_id == second.id
    scheduler.tick()
    run_worker()
    assert len(smtp.catcher.received()) == 1       # step 2 isn't due yet and step 1 isn't sent again
    html = b.get(page).get_data(as_text=True)
    assert "Sent" in html and "One (v2)" in html


def test_another_teams_sequence_is_a_404(logged_in):
    a, other = logged_in("admin"), logged_in("admin")
    c = _campaign(a.user)
    add_steps(c, {"subject": "x", "body_text": "y"})
    step = db.session.scalars(select(SequenceStep)).one()
    assert other.get(f"/campaigns/{c.id}/sequence/").status_code == 404
    own = _campaign(other.user)
    assert other.post(f"/campaigns/{c.id}/sequence/start", page=f"/campaigns/{own.id}/sequence/").status_code == 404
    assert other.get(f"/campaigns/{own.id}/sequence/steps/{step.id}").status_code == 404
    assert other.get(f"/campaigns/{2**40}/sequence/").status_code == 404
    assert other.post(f"/campaigns/{own.id}/sequence/runs/99/retry", page=f"/campaigns/{own.id}/sequence/").status_code == 404


def test_my_tasks_lists_and_ticks_off_only_my_tasks(logged_in, make_user):
    b = logged_in("recruiter")
    empty = b.get("/tasks/").get_data(as_text=True)
    assert "Nothing to do right now" in empty
    c = _campaign(b.user)
    add_steps(c, {"kind": "linkedin", "body_text": "Say hi to {{ first_name }} at {{ company }}"},
              {"kind": "call", "body_text": "Call", "delay_days": 1})
    ada, _ = enrol(b.user, c, profile(1))
    steps.start(c)
    assert scheduler.tick()["tasks"] == 1
    html = b.get("/tasks/").get_data(as_text=True)
    assert "Say hi to Ada1 at Analytical Engines" in html and "LinkedIn message" in html
    run = db.session.scalars(select(StepRun)).one()
    other = logged_in("recruiter", team=b.user.team)
    assert other.post(f"/tasks/{run.id}/done", page="/tasks/").status_code == 404
    assert b.post(f"/tasks/{run.id}/done", {"note": "x" * 5001}, page="/tasks/").status_code == 422
    r = b.post(f"/tasks/{run.id}/done", {"note": "Connected"}, page="/tasks/", htmx=True)
    assert r.status_code == 200 and "Done: recorded" in r.get_data(as_text=True)
    event = db.session.scalars(select(OutreachEvent).where(OutreachEvent.kind == "linkedin_sent")).one()
    assert event.body == "Connected" and event.channel == "linkedin"
    again = b.post(f"/tasks/{run.id}/done", page="/tasks/", htmx=True)
    assert "already closed" in again.get_data(as_text=True)
    assert len(db.session.scalars(select(OutreachEvent).where(OutreachEvent.kind == "linkedin_sent")).all()) == 1


def test_mailbox_settings_encrypt_the_password_and_refuse_bad_input(logged_in, app):
    b = logged_in("recruiter")
    app.config["SMTP_PRIVATE_HOSTS"] = ()
    bad = b.post("/account/mailbox/", {"from_address": "not-an-email", "host": "smtp example", "port": "0"},
                 page="/account/", htmx=True)
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Not a valid email address." in html and "A host name like" in html
    assert "A port between 1 and 65535." in html and db.session.scalar(select(func.count()).select_from(Mailbox)) == 0
    private = b.post("/account/mailbox/", {"from_address": "r@agency.test", "host": "127.0.0.1", "port": "587"},
                     page="/account/")
    assert private.status_code == 422 and "private network" in private.get_data(as_text=True)
    plain = b.post("/account/mailbox/", {"from_address": "r@agency.test", "host": "localhost", "port": "25",
                                         "security": "none"}, page="/account/")
    assert plain.status_code == 422 and "in clear" in plain.get_data(as_text=True)
    nopass = b.post("/account/mailbox/", {"from_address": "r@agency.test", "host": "127.0.0.1", "port": "2525",
                                          "username": "riley"}, page="/account/")
    assert nopass.status_code == 422

    app.config["SMTP_PRIVATE_HOSTS"] = ("127.0.0.1",)
    ok = b.post("/account/mailbox/", {"from_address": "r@agency.test", "host": "127.0.0.1", "port": "2525",
                                      "security": "starttls", "username": "riley", "password": "s3cret-pw"},
                page="/account/", htmx=True)
    assert ok.status_code == 200 and "Mailbox saved" in ok.get_data(as_text=True)
    box = db.session.scalars(select(Mailbox)).one()
    assert b"s3cret-pw" not in box.password_encrypted
    assert "s3cret-pw" not in b.get("/account/").get_data(as_text=True)
    # A blank password keeps the saved one.
    b.post("/account/mailbox/", {"from_address": "r@agency.test", "host": "127.0.0.1", "port": "2526",
                                 "security": "starttls", "username": "riley"}, page="/account/")
    db.session.refresh(box)
    assert box.port == 2526 and box.password_encrypted is not None


def test_mailbox_test_runs_in_a_worker_and_reports(logged_in, app, run_worker):
    smtp = smtp_server(app)
    smtp.catcher.username, smtp.catcher.password = "riley", "right"
    b = logged_in("recruiter")
    assert b.post("/account/mailbox/test", page="/account/").status_code == 422     # nothing saved yet
    for password, badge, text in (("wrong", "Failed", "refused the login"), ("right", "Works", "logged in as riley")):
        b.post("/account/mailbox/", {"from_address": "r@agency.test", "host": "127.0.0.1", "port": str(smtp.port),
                                     "security": "none", "username": "riley", "password": password}, page="/account/")
        r = b.post("/account/mailbox/test", page="/account/", htmx=True)
        assert "Testing…" in r.get_data(as_text=True) and 'hx-trigger="load delay:1s"' in r.get_data(as_text=True)
        run_worker()
        status = b.get("/account/mailbox/test", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert badge in status and text in status and "hx-trigger" not in status
    assert smtp.catcher.received() == []


def test_outreach_settings_are_for_admins(logged_in):
    rec = logged_in("recruiter")
    assert rec.get("/outreach/").status_code == 403
    assert rec.post("/outreach/suppression", {"value": "x@y.test"}, page="/account/").status_code == 403
    admin = logged_in("admin")
    assert "Business hours" in admin.get("/outreach/").get_data(as_text=True)
    bad = admin.post("/outreach/hours", {"time_zone": "Mars/Olympus", "work_start_hour": "18", "work_end_hour": "9"},
                     page="/outreach/")
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Unknown time zone" in html and "must end after it starts" in html
    assert "Choose at least one day" in html
    ok = admin.post("/outreach/hours", {"time_zone": "America/New_York", "work_start_hour": "8", "work_end_hour": "18",
                                        "work_days": ["0", "1", "2", "3"]}, page="/outreach/")
    assert ok.status_code == 303
    team = admin.user.team
    db.session.refresh(team)
    assert (team.time_zone, team.work_start_hour, team.work_end_hour, team.work_days) == ("America/New_York", 8, 18, "0,1,2,3")
    assert admin.post("/outreach/suppression", {"value": "nope"}, page="/outreach/").status_code == 422
    r = admin.post("/outreach/suppression", {"value": "Ada@Example.com"}, page="/outreach/", htmx=True)
    assert "Added ada@example.com" in r.get_data(as_text=True)
    entry = db.session.scalars(select(Suppression)).one()
    other = logged_in("admin")
    assert other.post(f"/outreach/suppression/{entry.id}/delete", page="/outreach/").status_code == 404
    assert admin.post(f"/outreach/suppression/{entry.id}/delete", page="/outreach/").status_code == 200
    assert db.session.scalars(select(Suppression)).all() == []


def test_deleting_a_memberless_campaign_takes_its_sequence_with_it(logged_in):
    b = logged_in("admin")
    c = _campaign(b.user)
    add_steps(c, {"subject": "x", "body_text": "y"})
    steps.sequence_for(c)
    db.session.commit()
    from services.campaigns import delete_campaign
    assert delete_campaign(c)
    assert db.session.scalars(select(SequenceStep)).all() == [] and db.session.scalars(select(Sequence)).all() == []
