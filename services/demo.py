"""`flask seed-demo`: a demo team (an admin and a recruiter) connected to the local CATS sandbox,
with one campaign that syncs people as CATS candidates when they are added, and runs a two-email
sequence from the recruiter's mailbox, which points at the local mail catcher (`flask
smtp-catcher`, started by `make run`). Idempotent: running it again keeps the existing team and
just prints the logins (adding the mailbox and sequence to a demo team made before they existed)."""
from __future__ import annotations

import os
from urllib.parse import urlsplit

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from crypto import encrypt_credentials
from core import db
from models import Campaign, Connection, Mailbox, Sequence, SequenceStep, Team, User
from providers import sandbox_port
from services.inbound import current_secret, rotate_secret

DEMO_PASSWORD = "shoal-demo-password"
ADMIN_EMAIL = "admin@demo.shoal.test"
RECRUITER_EMAIL = "recruiter@demo.shoal.test"
# `flask sandbox --all --port 5101` (Procfile) serves the registry's CRMs on consecutive ports.
SANDBOX_FIRST_PORT = 5101
CATS_SANDBOX_BASE_URL = f"http://127.0.0.1:{sandbox_port('cats', SANDBOX_FIRST_PORT)}/v3"
CATS_SANDBOX_CREDENTIALS = {"api_key": "cats-sandbox-key"}
# The local mail catcher (Procfile `mail`, sandbox/smtp.py); the demo team sends around the clock so
# a newcomer sees the sequence run whenever they try it.
MAIL_CATCHER_PORT = 2525
DEMO_STEPS = (
    {"kind": "email", "delay_days": 0, "delay_hours": 0, "subject": "{{ first_name }}, a Python role in London",
     "body_text": "Hi {{ first_name }},\n\nI'm hiring senior Python engineers in London and your work at "
                  "{{ company }} stood out. Open to a short call this week?\n\n{{ sender_name }}"},
    {"kind": "email", "delay_days": 0, "delay_hours": 1, "subject": "Re: {{ first_name }}, a Python role in London",
     "body_text": "Hi {{ first_name }}, just bringing this back to the top of your inbox. "
                  "Worth a chat?\n\n{{ sender_first_name }}"},
)


def seed_demo(cats_base_url: str = CATS_SANDBOX_BASE_URL) -> tuple[Team, str | None]:
    """Create the demo team once. Returns (team, the recruiter's new extension token or None if the
    team already existed: a token is shown once, like on the Account page)."""
    team = db.session.scalars(select(Team).join(User, User.team_id == Team.id)
                              .where(User.email == ADMIN_EMAIL)).first()
    if team is not None:
        seed_outreach(team)
        return team, None
    team = Team(name="Demo Agency", work_start_hour=0, work_end_hour=24, work_days="0,1,2,3,4,5,6")
    db.session.add(team)
    db.session.flush()
    admin = User(team_id=team.id, email=ADMIN_EMAIL, name="Avery Admin", role="admin",
                 password_hash=generate_password_hash(DEMO_PASSWORD))
    recruiter = User(team_id=team.id, email=RECRUITER_EMAIL, name="Riley Recruiter", role="recruiter",
                     password_hash=generate_password_hash(DEMO_PASSWORD))
    db.session.add_all([admin, recruiter])
    db.session.flush()
    # The sandbox accepts these credentials by design, so the demo starts out connected; its web
    # address is the sandbox's own read-only record pages, so a CATS link in the demo opens one.
    parts = urlsplit(cats_base_url)
    creds = {**CATS_SANDBOX_CREDENTIALS, "web_url": f"{parts.scheme}://{parts.netloc}"}
    db.session.add(Connection(team_id=team.id, provider_key="cats", base_url=cats_base_url,
                              credentials_encrypted=encrypt_credentials(creds),
                              status="connected", active=True, account_name="CATS sandbox (demo)"))
    db.session.add(Campaign(team_id=team.id, owner_id=recruiter.id, name="Senior Python engineers, London",
                            sync_as="candidate", sync_override={"add_candidate": "added"}))
    db.session.flush()
    seed_outreach(team)
    from services.tokens import issue_token

    _row, token = issue_token(recruiter, "Demo extension")
    return team, token


def seed_outreach(team: Team) -> None:
    """The recruiter's mailbox on the local catcher and the demo campaign's running sequence (once)."""
    recruiter = db.session.scalars(select(User).where(User.email == RECRUITER_EMAIL, User.team_id == team.id)).first()
    campaign = db.session.scalars(select(Campaign).where(Campaign.team_id == team.id).order_by(Campaign.id)).first()
    if recruiter is None or campaign is None:
        return
    if db.session.scalars(select(Mailbox).where(Mailbox.user_id == recruiter.id)).first() is None:
        db.session.add(Mailbox(team_id=team.id, user_id=recruiter.id, from_name=recruiter.name,
                               from_address="riley@demo-agency.test", host="127.0.0.1", port=MAIL_CATCHER_PORT,
                               security="none", daily_cap=200, spacing_seconds=5))
    if db.session.scalars(select(Sequence).where(Sequence.campaign_id == campaign.id)).first() is None:
        db.session.add(Sequence(team_id=team.id, campaign_id=campaign.id, status="running"))
        for n, step in enumerate(DEMO_STEPS, start=1):
            db.session.add(SequenceStep(team_id=team.id, campaign_id=campaign.id, position=n, **step))
    db.session.commit()


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
    click.echo("  mail: the demo campaign's sequence emails land in the catcher, http://127.0.0.1:5125")
    secret = current_secret(team) or rotate_secret(team)
    port = os.environ.get("SHOAL_PORT", "5000")
    click.echo(f"  inbound mail: POST http://127.0.0.1:{port}/hooks/inbound-mail with X-Shoal-Secret: {secret}")
    click.echo("    (a reply names the sent email's Message-ID in in_reply_to; see README, 'Replies and CVs')")
    if token:
        click.echo(f"  extension token (recruiter; paste into the extension's options): {token}")
    else:
        click.echo("  extension token: create one on the Account page")
