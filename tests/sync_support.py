"""Helpers shared by the sync runtime tests (tests/jobs, tests/services, tests/chaos): a team with a
connection to a sandbox served on a real socket, and a campaign to push people through."""
from __future__ import annotations

import importlib
from typing import Any

import requests
from sqlalchemy import func, select

from crypto import encrypt_credentials
from core import db
from models import Campaign, Connection, SettingsLayer, SyncIntent, User

RECORD_TYPE = {"tracker": "candidate", "smartrecruiters": "candidate", "cats": "candidate",
               "itris": "applicant", "pinpoint": "application"}


def connect(user: User, key: str, server: Any, *, rate_limit_per_minute: int | None = 0,
            credentials: dict[str, Any] | None = None) -> Connection:
    """A connected Connection of the user's team to the sandbox `key` served by `server`.

    `rate_limit_per_minute=0` switches our own budget off (tests that aren't about pacing)."""
    module = importlib.import_module(f"sandbox.{key}")
    creds = dict(credentials if credentials is not None else module.DEFAULT_CREDENTIALS)
    conn = Connection(team_id=user.team_id, provider_key=key, base_url=server.base + module.API_ROOT,
                      credentials_encrypted=encrypt_credentials(creds), status="connected",
                      rate_limit_per_minute=rate_limit_per_minute)
    db.session.add(conn)
    db.session.commit()
    return conn


def campaign(user: User, sync_as: str = "candidate", **kw: Any) -> Campaign:
    c = Campaign(team_id=user.team_id, owner_id=user.id, name="Backend engineers", sync_as=sync_as, **kw)
    db.session.add(c)
    db.session.commit()
    return c


def team_settings(user: User, provider_key: str, values: dict[str, Any]) -> None:
    db.session.add(SettingsLayer(team_id=user.team_id, user_id=None, provider_key=provider_key, values=values))
    db.session.commit()


def profile(n: int, **kw: Any) -> dict[str, Any]:
    p = {"first_name": f"Ada{n}", "last_name": f"Lovelace{n}", "email": f"ada{n}@example.com",
         "title": "Engineer", "company": "Analytical Engines",
         "linkedin_url": f"https://www.linkedin.com/in/ada-{n}"}
    p.update(kw)
    return p


def sandbox_state(server: Any) -> dict[str, Any]:
    return requests.get(f"{server.base}/__sandbox/state", timeout=10).json()


def faults(server: Any, **body: Any) -> None:
    requests.post(f"{server.base}/__sandbox/faults", json=body, timeout=5).raise_for_status()


def intents(**where: Any) -> list[SyncIntent]:
    q = select(SyncIntent).order_by(SyncIntent.id)
    for k, v in where.items():
        q = q.where(getattr(SyncIntent, k) == v)
    db.session.expire_all()
    return list(db.session.scalars(q))


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def tag_a_pinpoint_application(server: Any) -> None:
    """Pinpoint has no tag catalogue (the panel offers the tags seen on recent applications): add one
    application tagged "Shortlist" to an open job, so a second tag is on offer."""
    job = next(j for j in sandbox_state(server)["tables"]["jobs"] if j["status"] == "open")
    body = {"data": {"type": "applications", "attributes": {
        "first_name": "Tag", "last_name": "Seed", "email": "tag.seed@example.com",
        "add_tags_with_context": [{"name": "Shortlist", "context": "custom_green"}]},
        "relationships": {"job": {"data": {"type": "jobs", "id": str(job["id"])}}}}}
    r = requests.post(f"{server.base}/api/v1/applications", json=body, timeout=5,
                      headers={"X-API-KEY": "pinpoint-sandbox-key", "Content-Type": "application/vnd.api+json"})
    assert r.status_code == 201, r.text
