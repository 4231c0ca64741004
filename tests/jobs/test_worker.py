"""The worker `flask worker` runs (jobs/worker.py, jobs/processes.py), end to end: real Redis, the
real database, the CATS sandbox on a socket, RQ's registries.

One worker process is RQ's SimpleWorker as `jobs.worker.build_worker` builds it, run in burst mode in
this process; everything about several processes runs a real `flask worker --processes N` (a
supervisor and N child processes) on this test's database and Redis. Workers have database sessions
of their own, so every assertion re-reads rows (`intents()` expires this session first). Overlap is
proven by the sandbox's `peak_in_flight` (CRM calls served at once), never by timing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import requests
from rq import Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry
from sync_support import campaign, connect, intents, profile, sandbox_state, team_settings
from worker_jobs import break_session, chain, count_teams, echo, explode, sleep_for

from core import get_redis
from jobs import SERIALIZER, enqueue, get_queue
from jobs.worker import build_worker
from services import enrolments

ROOT = Path(__file__).resolve().parents[2]
UNSETTLED = ("pending", "queued", "running")


def work(app):
    """One burst of one worker process, exactly as `flask worker --processes 1 --burst` runs it."""
    worker = build_worker(app)
    worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
    return worker


def fetch(job_id: str) -> Job:
    return Job.fetch(job_id, connection=get_redis(), serializer=SERIALIZER)


def flask_worker(app, log: Path, *args: str, **config) -> subprocess.Popen:
    """A real `flask worker` process on this test's database and Redis (`config` overrides the app's
    config in it); this folder is on its path so it can import worker_jobs."""
    redis_url = app.config["REDIS_STORAGE_URI"].replace("redis+unix://", "unix://")
    env = {**os.environ, "FLASK_APP": f"app:create_app({config!r}, instance_path={app.instance_path!r})",
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": redis_url,
           "CREDENTIALS_KEY": app.config["CREDENTIALS_KEY"], "SECRET_KEY": app.config["SECRET_KEY"],
           "CRM_HOST_ALLOWLIST": app.config["CRM_HOST_ALLOWLIST"],
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(ROOT)])}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "flask", "worker", "--sweep-every", "0", *args],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def burst(app, tmp_path: Path, processes: int, **config) -> str:
    """`flask worker --burst --processes N` until it exits; asserts exit 0 and returns its log."""
    log = tmp_path / "worker.log"
    proc = flask_worker(app, log, "--burst", "--processes", str(processes), **config)
    try:
        code = proc.wait(timeout=120)
    finally:
        kill(proc)
    assert code == 0, log.read_text()[-3000:]
    return log.read_text()


@contextmanager
def running(app, tmp_path: Path, processes: int, **config) -> Iterator[subprocess.Popen]:
    """A long-running `flask worker --processes N`, ready (N RQ workers registered); stopped with a
    warm shutdown afterwards, which must exit 0."""
    log = tmp_path / "worker.log"
    proc = flask_worker(app, log, "--processes", str(processes), **config)
    try:
        wait_for(lambda: Worker.count(connection=get_redis()) == processes or proc.poll() is not None, 60)
        assert proc.poll() is None, log.read_text()[-3000:]
        yield proc
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
    finally:
        kill(proc)


def kill(proc: subprocess.Popen) -> None:
    """After a failed assertion: take down a worker still running, its children first."""
    if proc.poll() is None:
        for pid in children(proc):
            for grandchild in children(pid):
                os.kill(grandchild, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)
        proc.kill()
        proc.wait()


def wait_for(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def settled() -> bool:
    return not [i for i in intents() if i.state in UNSETTLED]


def children(proc: subprocess.Popen | int) -> list[int]:
    pid = proc if isinstance(proc, int) else proc.pid
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:   # already gone
        return []


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


# -- several processes -------------------------------------------------------------------------

def test_pushes_run_side_by_side_in_worker_processes_and_each_person_is_created_once(app, make_user, sandbox,
                                                                                      tmp_path):
    server, user, camp = on_cats(make_user, sandbox)
    latency(server, 0.2)
    for n in range(12):
        enrolments.enrol(user, camp, profile(n))
    burst(app, tmp_path, processes=4)
    assert [i.state for i in intents()] == ["synced"] * 12, [i.reason for i in intents()]
    for n in range(12):
        assert len(candidates(server, f"ada{n}@example.com")) == 1
    assert sandbox_state(server)["peak_in_flight"] > 1   # CRM calls of several processes overlapped


def test_two_intents_of_one_person_in_flight_make_one_record_and_one_note(app, make_user, sandbox, tmp_path):
    """The push and the reply's note of each person are dequeued side by side by different
    processes; the person lock sends whichever comes second back to the queue (RQ's scheduler brings
    it back), and the ledger keeps every write single."""
    server, user, camp = on_cats(make_user, sandbox)
    latency(server, 0.2)
    for n in range(3):
        enrolment, _ = enrolments.enrol(user, camp, profile(n))
        enrolments.record_event(enrolment, "reply", channel="email", body=f"Reply from person {n}")
    with running(app, tmp_path, processes=4, SYNC_LOCK_RETRY_DELAY=0.05):
        wait_for(settled, 90)
    assert [i.state for i in intents()] == ["synced"] * 6, [i.reason for i in intents()]
    for n in range(3):
        [record] = candidates(server, f"ada{n}@example.com")
        [note] = notes(server, f"Reply from person {n}")
        assert str(record["id"]) in str(note)
    assert sandbox_state(server)["peak_in_flight"] > 1


def test_a_waiting_note_is_back_filled_in_the_same_burst_as_its_record(app, make_user, sandbox, tmp_path):
    """A note waits for its record; the `interested` push creates it, and the note goes in the same
    single burst of several processes (back-filled by that run, or enqueued by it meanwhile)."""
    server, user, camp = on_cats(make_user, sandbox, add_candidate="interested", only_notes_to_synced=True)
    enrolment, _ = enrolments.enrol(user, camp, profile(1))
    enrolments.record_event(enrolment, "email_sent", channel="email", body="First touch")
    work(app)
    assert [i.state for i in intents()] == ["skipped", "waiting"]
    latency(server, 0.2)
    enrolments.record_event(enrolment, "interested", body="Sounds great")
    burst(app, tmp_path, processes=3)
    assert [i.state for i in intents()] == ["skipped", "synced", "synced"]
    [record] = candidates(server, "ada1@example.com")
    [note] = notes(server, "First touch")
    assert str(record["id"]) in str(note)


def test_burst_of_several_processes_waits_for_running_jobs_that_enqueue_more_work(app, tmp_path):
    """Each link of the chain is enqueued by the one before, while it runs: whenever another
    process looks, the queue is empty, but the process running a link picks up the next."""
    enqueue(chain, 4, job_id="chain-4")
    burst(app, tmp_path, processes=3)
    assert [fetch(f"chain-{n}").return_value() for n in (4, 3, 2, 1)] == [4, 3, 2, 1]


def test_a_job_past_its_timeout_fails_in_a_worker_process_and_the_others_go_on(app, tmp_path):
    slow = enqueue(sleep_for, 60, job_timeout=1)
    after = [enqueue(echo, f"after-{n}") for n in range(4)]
    started = time.monotonic()
    burst(app, tmp_path, processes=2)
    assert time.monotonic() - started < 50   # the 60 s sleep was cut short
    job = fetch(slow.id)
    assert job.is_failed and "JobTimeoutException" in job.latest_result().exc_string
    assert [fetch(j.id).return_value() for j in after] == [f"after-{n}" for n in range(4)]


def test_sigterm_lets_the_jobs_in_flight_finish_then_the_worker_exits(app, make_user, sandbox, tmp_path):
    """A real `flask worker --processes 2`: a warm shutdown stops dequeuing, waits for the running
    intents (each CRM call held 1.5 s by the sandbox), and every process exits on its own."""
    server, user, camp = on_cats(make_user, sandbox)
    latency(server, 1.5)
    log = tmp_path / "worker.log"
    proc = flask_worker(app, log, "--processes", "2")
    try:
        for n in range(2):
            enrolments.enrol(user, camp, profile(n))
        wait_for(lambda: [i.state for i in intents()] == ["running"] * 2 or proc.poll() is not None, 60)
        assert [i.state for i in intents()] == ["running"] * 2, log.read_text()[-3000:]
        pids = children(proc)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    finally:
        kill(proc)
    assert (code, [i.state for i in intents()]) == (0, ["synced"] * 2), log.read_text()[-3000:]
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    for n in range(2):
        assert len(candidates(server, f"ada{n}@example.com")) == 1


def test_a_worker_process_that_dies_is_replaced(app, tmp_path):
    with running(app, tmp_path, processes=2) as proc:
        [first, second] = children(proc)
        schedulers = children(first)   # RQ's scheduler, if this one runs it: it would outlive a SIGKILL
        os.kill(first, signal.SIGKILL)
        for pid in schedulers:
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: len(children(proc)) == 2 and first not in children(proc), 30)
        assert first not in children(proc) and second in children(proc) and len(children(proc)) == 2
        job = enqueue(echo, "still served")
        wait_for(lambda: fetch(job.id).return_value() == "still served", 60)
        assert fetch(job.id).return_value() == "still served", (tmp_path / "worker.log").read_text()[-3000:]


# -- one process -------------------------------------------------------------------------------

def test_one_process_keeps_one_crm_call_in_flight(app, make_user, sandbox):
    server, user, camp = on_cats(make_user, sandbox)
    latency(server, 0.05)
    for n in range(3):
        enrolments.enrol(user, camp, profile(n))
    work(app)
    assert [i.state for i in intents()] == ["synced"] * 3
    state = sandbox_state(server)
    assert state["requests"] >= 3 and state["peak_in_flight"] == 1


def test_burst_waits_for_running_jobs_that_enqueue_more_work(app):
    enqueue(chain, 4, job_id="chain-4")
    work(app)
    assert [fetch(f"chain-{n}").return_value() for n in (4, 3, 2, 1)] == [4, 3, 2, 1]


def test_a_failing_job_lands_in_the_failed_registry_and_the_next_jobs_run(app):
    failing = enqueue(explode, "first")
    after = [enqueue(echo, f"after-{n}") for n in range(3)]
    work(app)
    assert FailedJobRegistry(queue=get_queue("sync")).get_job_ids() == [failing.id]
    assert "job first failed on purpose" in fetch(failing.id).latest_result().exc_string
    assert [fetch(j.id).return_value() for j in after] == ["after-0", "after-1", "after-2"]


def test_a_job_past_its_timeout_fails_with_job_timeout_and_the_worker_goes_on(app):
    slow = enqueue(sleep_for, 30, job_timeout=1)
    after = enqueue(echo, "still working")
    work(app)
    assert FailedJobRegistry(queue=get_queue("sync")).get_job_ids() == [slow.id]
    job = fetch(slow.id)
    assert job.is_failed and "JobTimeoutException" in job.latest_result().exc_string
    assert fetch(after.id).return_value() == "still working"


def test_each_job_has_a_database_session_of_its_own(app, make_user):
    """A job that leaves its session broken (a failed flush) doesn't break the next job."""
    team_id = make_user("admin").team_id
    broken = enqueue(break_session, team_id + 1000)
    counted = enqueue(count_teams)
    work(app)
    assert fetch(broken.id).is_failed
    assert fetch(counted.id).return_value() == 1


def test_a_finished_intent_job_is_recorded_like_any_rq_job(app, make_user, sandbox):
    """RQ sees each intent job finished, its result kept for a minute, nothing left started."""
    server, user, camp = on_cats(make_user, sandbox)
    for n in range(2):
        enrolments.enrol(user, camp, profile(n))
    work(app)
    assert [i.state for i in intents()] == ["synced"] * 2
    queue = get_queue("sync")
    for intent in intents():
        job = fetch(f"intent-{intent.id}")
        assert job.get_status() == "finished" and job.return_value() == "synced"
        assert 0 < get_redis(app).ttl(job.key) <= 60
    assert sorted(FinishedJobRegistry(queue=queue).get_job_ids()) == sorted(f"intent-{i.id}" for i in intents())
    assert StartedJobRegistry(queue=queue).get_job_ids() == []
