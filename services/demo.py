"""`flask seed-demo`: a demo team (an admin and a recruiter) connected to the local CATS sandbox,
with one campaign that syncs people as CATS candidates when they are added. Idempotent: running it
again keeps the existing team and just prints the logins."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from crypto import encrypt_credentials
from core import db
from models import Campaign, Connection, Team, User
from providers import sandbox_port

DEMO_PASSWORD = "shoal-demo-password"
ADMIN_EMAIL = "admin@demo.shoal.test"
RECRUITER_EMAIL = "recruiter@demo.shoal.test"
# `flask sandbox --all --port 5101` (Procfile) serves the registry's CRMs on consecutive ports.
SANDBOX_FIRST_PORT = 5101
CATS_SANDBOX_BASE_URL = f"http://127.0.0.1:{sandbox_port('cats', SANDBOX_FIRST_PORT)}/v3"
CATS_SANDBOX_CREDENTIALS = {"api_key": "cats-sandbox-key"}


def seed_demo(cats_base_url: str = CATS_SANDBOX_BASE_URL) -> tuple[Team, str | None]:
    """Create the demo team once. Returns (team, the recruiter's new extension token or None if the
    team already existed: a token is shown once, like on the Account page)."""
    team = db.session.scalars(select(Team).join(User, User.team_id == Team.id)
                              .where(User.email == ADMIN_EMAIL)).first()
    if team is not None:
        return team, None
    team = Team(name="Demo Agency")
    db.session.add(team)
    db.session.flush()
    admin = User(team_id=team.id, email=ADMIN_EMAIL, name="Avery Admin", role="admin",
                 password_hash=generate_password_hash(DEMO_PASSWORD))
    recruiter = User(team_id=team.id, email=RECRUITER_EMAIL, name="Riley Recruiter", role="recruiter",
                     password_hash=generate_password_hash(DEMO_PASSWORD))
    db.session.add_all([admin, recruiter])
    db.session.flush()
    # The sandbox accepts these credentials by design, so the demo starts out connected.
    db.session.add(Connection(team_id=team.id, provider_key="cats", base_url=cats_base_url,
                              credentials_encrypted=encrypt_credentials(CATS_SANDBOX_CREDENTIALS),
                              status="connected", active=True, account_name="CATS sandbox (demo)"))
    db.session.add(Campaign(team_id=team.id, owner_id=recruiter.id, name="Senior Python engineers, London",
                            sync_as="candidate", sync_override={"add_candidate": "added"}))
    db.session.commit()
    from services.tokens import issue_token

    _row, token = issue_token(recruiter, "Demo extension")
    return team, token


@click.command("seed-demo")
@click.option("--cats-base-url", default=CATS_SANDBOX_BASE_URL, show_default=True)
@with_appcontext
def seed_demo_command(cats_base_url: str) -> None:
    """Create (once) the demo team connected to the CATS sandbox and print its logins."""
    team, token = seed_demo(cats_base_url)
    click.echo(("Created" if token else "Found") + f" demo team {team.name!r}.")
    click.echo(f"  admin:     {ADMIN_EMAIL} / {DEMO_PASSWORD}")
    click.echo(f"  recruiter: {RECRUITER_EMAIL} / {DEMO_PASSWORD}")
    click.echo(f"  CRM: CATS sandbox at {cats_base_url}")
    if token:
        click.echo(f"  extension token (recruiter; paste into the extension's options): {token}")
    else:
        click.echo("  extension token: create one on the Account page")
