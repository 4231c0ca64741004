"""CRMs whose record lives on a job (Pinpoint applications; SmartRecruiters create-and-apply) get
the campaign's job inside the create call, so a push needs no default job and no second call."""
from __future__ import annotations

from sync_support import RECORD_TYPE, campaign, connect, profile, sandbox_state

from core import db
from models import SyncIntent
from services import enrolments
def _job_id(server, title: str) -> str:
    jobs = sandbox_state(server)["tables"]["jobs"]
    return str(next(j["id"] for j in jobs if j.get("title") == title))


def test_pinpoint_push_is_created_on_the_campaign_job(make_user, sandbox, run_worker):
    server = sandbox("pinpoint")
    user = make_user("recruiter")
    connect(user, "pinpoint", server)          # no default_job_id credential
    job = _job_id(server, "Senior Backend Engineer")
    c = campaign(user, RECORD_TYPE["pinpoint"], sync_override={"add_application": "added"},
                 sync_options={"job_id": job})
    enrolments.enrol(user, c, profile(1))
    run_worker()
    intent = db.session.scalars(db.select(SyncIntent)).one()
    assert intent.state == "synced", intent.reason
    tables = sandbox_state(server)["tables"]
    [cand] = [c for c in tables["candidates"] if c.get("email") == "ada1@example.com"]
    mine = [a for a in tables["applications"] if a["candidate_id"] == cand["id"]]
    assert [str(a["job_id"]) for a in mine] == [job]
