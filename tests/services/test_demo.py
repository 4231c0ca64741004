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
