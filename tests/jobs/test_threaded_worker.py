"""`jobs.threaded.ThreadedWorker`, the worker `flask worker` runs, end to end: real Redis, the real
database, the CATS sandbox on a socket, RQ's registries.

Built as `flask worker` builds it and run in burst mode in this process; the warm-shutdown test runs
a real `flask worker` process. The worker's threads have database sessions of their own, so every
assertion re-reads rows (`intents()` expires this session first). Overlap is proven by the
sandbox's `peak_in_flight` (CRM calls served at once), never by timing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from rq.job import Job
from rq.registry import FailedJobRegistry
from sync_support import campaign, connect, intents, profile, sandbox_state, team_settings
from threaded_jobs import chain, echo, explode, sleep_in_slices

from core import get_redis
from jobs import SERIALIZER, enqueue, get_queue
from jobs.threaded import ThreadedWorker
from services import enrolments
ROOT = Path(__file__).resolve().parents[2]
UNSETTLED = ("pending", "queued", "running")


def work(app, threads: int) -> ThreadedWorker:
    """One burst of the worker exactly as `flask worker --burst` builds and runs it."""
    worker = ThreadedWorker([get_queue(q) for q in app.config["RQ_QUEUES"]], connection=get_redis(app),
                            app=app, threads=threads, serializer=SERIALIZER)
    worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
    assert worker.in_flight == 0
    return worker


def latency(server, seconds: float) -> None:
    requests.post(f"{server.base}/__sandbox/latency", json={"seconds": seconds}, timeout=5).raise_for_status()


def candidates(server, email: str) -> list[dict]:
    return [r for r in sandbox_state(server)["tables"].get("candidates", []) if email in str(r).lower()]


def notes(server, text: str) -> list[dict]:
    return [a for a in sandbox_state(server)["tables"].get("activities", []) if text in str(a)]


def on_cats(make_user, sandbox, **settings):
    server = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", server)
    if settings:
        team_settings(user, "cats", settings)
    return server, user, campaign(user)


def test_pushes_run_side_by_side_and_each_person_is_created_once(app, make_user, sandbox):
    server, user, camp = on_cats(make_user, sandbox)
    latency(server, 0.2)
    for n in range(12):
        enrolments.enrol(user, camp, profile(n))
    work(app, threads=4)
    assert [i.state for i in intents()] == ["synced"] * 12, [i.reason for i in intents()]
    for n in range(12):
        assert len(candidates(server, f"ada{n}@example.com")) == 1
    assert sandbox_state(server)["peak_in_flight"] > 1   # CRM calls of several jobs overlapped


def test_one_thread_keeps_one_crm_call_in_flight(app, make_user, sandbox):
    server, user, camp = on_cats(make_user, sandbox)
    latency(server, 0.05)
    for n in range(3):
        enrolments.enrol(user, camp, profile(n))
    work(app, threads=1)
    assert [i.state for i in intents()] == ["synced"] * 3
    state = sandbox_state(server)
    assert state["requests"] >= 3 and state["peak_in_flight"] == 1


def test_two_intents_of_one_person_in_flight_make_one_record_and_one_note(app, make_user, sandbox, monkeypatch):
    """The push and the reply's note of each person are dequeued side by side; the person lock sends
    whichever comes second back to the queue, and the ledger keeps every write single."""
    monkeypatch.setitem(app.config, "SYNC_LOCK_RETRY_DELAY", 0.05)
    server, user, camp = on_cats(make_user, sandbox)
    latency(server, 0.2)
    for n in range(3):
        enrolment, _ = enrolments.enrol(user, camp, profile(n))
        enrolments.record_event(enrolment, "reply", channel="email", body=f"Reply from person {n}")
    for _ in range(20):   # a lock-busy intent is re-scheduled: a later burst's scheduler runs it
        work(app, threads=4)
        if not [i for i in intents() if i.state in UNSETTLED]:
            break
        time.sleep(0.1)   # lets the 0.05 s retry come due
    assert [i.state for i in intents()] == ["synced"] * 6
    for n in range(3):
        [record] = candidates(server, f"ada{n}@example.com")
        [note] = notes(server, f"Reply from person {n}")
        assert str(record["id"]) in str(note)


def test_burst_waits_for_running_jobs_that_enqueue_more_work(app):
    """Each link of the chain is enqueued by the one before, while it runs: every time the worker
    looks, the queue is empty but a job is in flight, and burst mode must not stop there."""
    enqueue(chain, 4, job_id="chain-4")
    work(app, threads=4)
    redis = get_redis(app)
    assert [Job.fetch(f"chain-{n}", connection=redis, serializer=SERIALIZER).return_value() for n in (4, 3, 2, 1)] == [4, 3, 2, 1]


def test_a_waiting_note_is_back_filled_in_the_same_burst_as_its_record(app, make_user, sandbox):
    """A note waits for its record; the `interested` push creates it, and the note goes in the same
    single burst (back-filled by that run, or enqueued by it while the burst still runs)."""
    server, user, camp = on_cats(make_user, sandbox, add_candidate="interested", only_notes_to_synced=True)
    enrolment, _ = enrolments.enrol(user, camp, profile(1))
    enrolments.record_event(enrolment, "email_sent", channel="email", body="First touch")
    work(app, threads=1)   # one after the other: this step is not about the person lock
    assert [i.state for i in intents()] == ["skipped", "waiting"]
    latency(server, 0.2)
    enrolments.record_event(enrolment, "interested", body="Sounds great")
    work(app, threads=4)
    assert [i.state for i in intents()] == ["skipped", "synced", "synced"]
    [record] = candidates(server, "ada1@example.com")
    [note] = notes(server, "First touch")
    assert str(record["id"]) in str(note)


def test_a_failing_job_lands_in_the_failed_registry_and_the_next_jobs_run(app):
    failing = enqueue(explode, "first")
    after = [enqueue(echo, f"after-{n}") for n in range(3)]
    work(app, threads=1)   # one thread: the very thread whose job raised runs the rest
    redis = get_redis(app)
    assert FailedJobRegistry(queue=get_queue("sync")).get_job_ids() == [failing.id]
    assert "job first failed on purpose" in Job.fetch(failing.id, connection=redis, serializer=SERIALIZER).latest_result().exc_string
    assert [Job.fetch(j.id, connection=redis, serializer=SERIALIZER).return_value() for j in after] == ["after-0", "after-1", "after-2"]


def test_a_job_past_its_timeout_fails_with_job_timeout_and_the_worker_goes_on(app):
    slow = enqueue(sleep_in_slices, 30, job_timeout=1)
    after = enqueue(echo, "still working")
    work(app, threads=1)
    redis = get_redis(app)
    assert FailedJobRegistry(queue=get_queue("sync")).get_job_ids() == [slow.id]
    job = Job.fetch(slow.id, connection=redis, serializer=SERIALIZER)
    assert job.is_failed and "JobTimeoutException" in job.latest_result().exc_string
    assert Job.fetch(after.id, connection=redis, serializer=SERIALIZER).return_value() == "still working"


def test_sigterm_lets_the_job_in_flight_finish_then_the_worker_exits(app, make_user, sandbox, tmp_path):
    """A real `flask worker` process: a warm shutdown stops dequeuing, waits for the running
    intent (each CRM call held 1.5 s by the sandbox), and exits on its own."""
    server, user, camp = on_cats(make_user, sandbox)
    latency(server, 1.5)
    redis_url = app.config["REDIS_STORAGE_URI"].replace("redis+unix://", "unix://")
    env = {**os.environ, "FLASK_APP": f"app:create_app(instance_path={app.instance_path!r})",
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": redis_url,
           "CREDENTIALS_KEY": app.config["CREDENTIALS_KEY"], "SECRET_KEY": "test"}
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(Path(sys.executable).with_name("flask")), "worker", "--sweep-every", "0"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        enrolments.enrol(user, camp, profile(1))
        deadline = time.monotonic() + 30
        while intents()[0].state != "running" and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert intents()[0].state == "running", log.read_text()[-3000:]
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    [intent] = intents()
    assert (code, intent.state) == (0, "synced"), log.read_text()[-3000:]
    assert len(candidates(server, "ada1@example.com")) == 1


def test_a_finished_intent_job_is_recorded_like_any_rq_job(app, make_user, sandbox):
    """Intent jobs take a shorter success path (no dependents to release): RQ still sees each one
    finished, its result kept for a minute, and nothing left in the started registry."""
    from rq.registry import FinishedJobRegistry, StartedJobRegistry

    server, user, camp = on_cats(make_user, sandbox)
    for n in range(2):
        enrolments.enrol(user, camp, profile(n))
    work(app, threads=2)
    assert [i.state for i in intents()] == ["synced"] * 2
    queue = get_queue("sync")
    for intent in intents():
        job = Job.fetch(f"intent-{intent.id}", connection=get_redis(app), serializer=SERIALIZER)
        assert job.get_status() == "finished" and job.return_value() == "synced"
        assert 0 < get_redis(app).ttl(job.key) <= 60
    assert sorted(FinishedJobRegistry(queue=queue).get_job_ids()) == sorted(f"intent-{i.id}" for i in intents())
    assert StartedJobRegistry(queue=queue).get_job_ids() == []
