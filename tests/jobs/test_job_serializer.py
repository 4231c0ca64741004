"""Jobs travel through Redis as JSON (RQ's JSONSerializer): a job is a function's import path and
ids. A pickled job (what anyone able to write to Redis could plant) is never unpickled by a worker."""
from __future__ import annotations

import json
import pickle
import zlib

from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry
from sync_support import campaign, connect, intents, profile

from core import get_redis
from jobs import SERIALIZER, get_queue, intent_job_id
from services import background, enrolments


def stored(job_id: str) -> list:
    """The job's function and arguments exactly as Redis holds them, decoded as JSON."""
    return json.loads(zlib.decompress(get_redis().hget(Job.key_for(job_id), "data")))


def test_an_intent_job_and_a_named_task_are_stored_as_json_ids(make_user, sandbox, run_worker):
    user = make_user("admin")
    conn = connect(user, "cats", sandbox("cats"))
    enrolments.enrol(user, campaign(user), profile(1))
    [intent] = intents()
    assert stored(intent_job_id(intent.id)) == ["jobs.push.run_intent", None, [intent.id], {}]
    background.run("check_connection", conn.id, job_id="check-json")
    assert stored("check-json") == ["jobs.connections.check_connection", None, [conn.id], {}]
    run_worker()
    assert [i.state for i in intents()] == ["synced"]
    job = Job.fetch(intent_job_id(intent.id), connection=get_redis(), serializer=SERIALIZER)
    assert job.return_value() == "synced"


class Planted:
    """Unpickling this would run code in the worker; the JSON serializer never unpickles."""

    def __reduce__(self):
        return (print, ("unpickled!",))


def test_a_pickled_job_in_the_queue_fails_without_being_unpickled(run_worker, capsys):
    pickled = Queue("sync", connection=get_redis(), serializer=pickle)   # RQ's default serializer
    planted = pickled.enqueue(print, Planted(), job_id="planted")
    run_worker()
    assert "unpickled!" not in capsys.readouterr().out
    assert FailedJobRegistry(queue=get_queue("sync")).get_job_ids() == [planted.id]
