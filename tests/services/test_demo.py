"""`flask seed-demo` creates the demo team once, connected to the CATS sandbox, and prints logins."""
from __future__ import annotations

from sqlalchemy import func, select

from core import db
from models import Campaign, Connection, ExtensionToken, Team, User
from services.demo import ADMIN_EMAIL, CATS_SANDBOX_BASE_URL
from services.tokens import user_for_token


def test_seed_demo_is_idempotent_and_prints_logins(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert ADMIN_EMAIL in first.output and "extension token" in first.output
    token = first.output.split("extension's options): ")[1].split()[0]
    assert user_for_token(token).role == "recruiter"
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and "Found demo team" in second.output
    assert db.session.scalar(select(func.count()).select_from(Team)) == 1
    assert db.session.scalar(select(func.count()).select_from(User)) == 2
    assert db.session.scalar(select(func.count()).select_from(ExtensionToken)) == 1
    conn = db.session.scalars(select(Connection)).one()
    assert (conn.provider_key, conn.status, conn.base_url) == ("cats", "connected", CATS_SANDBOX_BASE_URL)
    assert db.session.scalars(select(Campaign)).one().sync_as == "candidate"


def test_the_demo_runs_a_two_email_sequence_into_the_local_catcher(app):
    from models import Mailbox, Sequence, SequenceStep
    from services.demo import RECRUITER_EMAIL

    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    recruiter = db.session.scalars(select(User).where(User.email == RECRUITER_EMAIL)).one()
    box = db.session.scalars(select(Mailbox)).one()
    assert (box.user_id, box.host, box.port, box.security) == (recruiter.id, "127.0.0.1", 2525, "none")
    campaign = db.session.scalars(select(Campaign)).one()
    assert db.session.scalars(select(Sequence)).one().status == "running"
    assert [s.kind for s in db.session.scalars(select(SequenceStep).where(
        SequenceStep.campaign_id == campaign.id).order_by(SequenceStep.position))] == ["email", "email"]
    # A demo made before outreach existed gets it on the next seed, once.
    app.test_cli_runner().invoke(args=["seed-demo"])
    assert db.session.scalar(select(func.count()).select_from(Mailbox)) == 1
    assert db.session.scalar(select(func.count()).select_from(SequenceStep)) == 2
