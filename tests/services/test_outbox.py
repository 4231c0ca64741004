"""The outbox: enrolment + event + intents in one transaction, dispatch, sweep, person dedupe."""
from __future__ import annotations

from sqlalchemy import func, select

from core import db, get_redis
from jobs import get_queue
from models import Campaign, Connection, Enrolment, OutreachEvent, Person, SyncIntent
from services import enrolments
from services.push import dispatch as push_dispatch
from services.people import find_or_create_person, linkedin_key

PROFILE = {"first_name": "Ada", "last_name": "Lovelace", "email": "Ada@Example.com",
           "linkedin_url": "https://www.linkedin.com/in/Ada-Lovelace/?trk=x"}


def _setup(make_user):
    user = make_user("recruiter")
    db.session.add(Connection(team_id=user.team_id, provider_key="cats", base_url="http://127.0.0.1:9/v3",
                              status="connected"))
    campaign = Campaign(team_id=user.team_id, owner_id=user.id, name="C", sync_as="candidate")
    db.session.add(campaign)
    db.session.commit()
    return user, campaign


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_linkedin_key_is_the_same_however_the_url_is_spelled():
    assert linkedin_key("https://www.linkedin.com/in/Ada-L/?x=1") == "in/ada-l"
    assert linkedin_key("linkedin.com/in/ada-l") == "in/ada-l"
    assert linkedin_key("https://example.com/ada") is None


def test_enrol_writes_enrolment_event_and_intent_and_enqueues_one_job(make_user):
    user, campaign = _setup(make_user)
    enrolment, created = enrolments.enrol(user, campaign, PROFILE)
    assert created
    assert (count(Person), count(Enrolment), count(OutreachEvent), count(SyncIntent)) == (1, 1, 1, 1)
    intent = db.session.scalars(select(SyncIntent)).one()
    assert intent.state == "queued" and intent.event.kind == "added"
    assert get_queue("sync").job_ids == [f"intent-{intent.id}"]


def test_adding_the_same_person_again_changes_nothing(make_user):
    user, campaign = _setup(make_user)
    enrolments.enrol(user, campaign, PROFILE)
    again = dict(PROFILE, email="ada@example.com", linkedin_url="https://linkedin.com/in/ada-lovelace")
    _, created = enrolments.enrol(user, campaign, again)
    assert not created
    assert (count(Person), count(Enrolment), count(SyncIntent)) == (1, 1, 1)


def test_people_are_deduplicated_per_team_not_across_teams(make_user):
    a = make_user("recruiter")
    b = make_user("recruiter")
    p1 = find_or_create_person(a.team_id, PROFILE)
    p2 = find_or_create_person(b.team_id, PROFILE)
    db.session.commit()
    assert p1.id != p2.id and p1.email == "ada@example.com"


def test_no_active_connection_means_no_intent(make_user):
    user = make_user("recruiter")
    campaign = Campaign(team_id=user.team_id, owner_id=user.id, name="C")
    db.session.add(campaign)
    db.session.commit()
    enrolments.enrol(user, campaign, PROFILE)
    assert count(SyncIntent) == 0 and count(OutreachEvent) == 1


def test_sweeper_re_enqueues_intents_lost_with_redis(make_user):
    user, campaign = _setup(make_user)
    enrolments.enrol(user, campaign, PROFILE)
    get_redis().flushdb()                       # Redis lost every queued job
    assert get_queue("sync").job_ids == []
    assert push_dispatch.sweep(older_than=0) == 1
    intent = db.session.scalars(select(SyncIntent)).one()
    assert get_queue("sync").job_ids == [f"intent-{intent.id}"]


def test_sweeper_leaves_recent_and_final_intents_alone(make_user):
    user, campaign = _setup(make_user)
    enrolments.enrol(user, campaign, PROFILE)
    assert push_dispatch.sweep(older_than=3600) == 0
    db.session.execute(SyncIntent.__table__.update().values(state="synced"))
    db.session.commit()
    assert push_dispatch.sweep(older_than=0) == 0


def test_sweeper_leaves_an_intent_whose_job_is_still_queued_behind_a_backlog(make_user):
    user, campaign = _setup(make_user)
    enrolments.enrol(user, campaign, PROFILE)
    intent = db.session.scalars(select(SyncIntent)).one()
    # Old enough to look stuck, but its job is still waiting in the queue: not lost, only late.
    assert push_dispatch.sweep(older_than=0) == 0
    assert get_queue("sync").job_ids == [f"intent-{intent.id}"]   # no duplicate job


def test_sweeper_re_enqueues_a_running_intent_whose_worker_died(make_user):
    from rq.job import Job

    user, campaign = _setup(make_user)
    enrolments.enrol(user, campaign, PROFILE)
    intent = db.session.scalars(select(SyncIntent)).one()
    # A worker took the job (RQ marks it started) and died mid-run, leaving the row `running`.
    job_id = get_queue("sync").pop_job_id()
    get_redis().hset(Job.key_for(job_id), "status", "started")
    intent.state = "running"
    db.session.commit()
    assert push_dispatch.sweep(older_than=0) == 1
    assert get_queue("sync").job_ids == [f"intent-{intent.id}"]


def test_an_intent_that_could_not_be_enqueued_is_left_pending_for_the_sweeper(app, make_user):
    import redis

    user, campaign = _setup(make_user)
    real = app.extensions["shoal_redis"]
    app.extensions["shoal_redis"] = redis.Redis.from_url("redis://127.0.0.1:1/0")   # nothing listens there
    try:
        enrolment, created = enrolments.enrol(user, campaign, PROFILE)
    finally:
        app.extensions["shoal_redis"] = real
    # The enrolment stands; its intent, committed as queued, was put back to pending.
    intent = db.session.scalars(select(SyncIntent)).one()
    assert created and intent.enrolment_id == enrolment.id
    assert (intent.state, intent.enqueued_at) == ("pending", None)
    assert get_queue("sync").job_ids == []
    assert push_dispatch.sweep(older_than=0) == 1
    assert get_queue("sync").job_ids == [f"intent-{intent.id}"]
    db.session.refresh(intent)
    assert intent.state == "queued" and intent.enqueued_at is not None
