"""The world the route table attacks: team A (an admin, the recruiter Rita who is the caller, and
Sam, another member) holding one of every object a URL can name, and team B with its own admin.

`build(app)` returns the ids to put in each URL converter (`values`) and a logged-in Client per
caller that sends the credential each area expects: the session cookie for pages, the extension
token for /panel, the API token for /api/v1 and the team's webhook secret for /hooks."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from attack_support import Client, make_user
from core import db, get_redis
from crypto import decrypt_credentials, encrypt_credentials
from models import (BulkImport, Campaign, Connection, Enrolment, ExtensionToken, InboundMessage, Mailbox,
                    OutreachEvent, Person, SequenceState, SettingsLayer, StepRun, Suppression, SyncIntent, Team,
                    User)
from sandbox.cats import API_ROOT, DEFAULT_CREDENTIALS
from services import cvs, inbound, signup, sync_health
from services.accounts import create_invite
from services.outreach import steps, unsubscribe
from services.passwords import issue_reset
from services.tokens import issue_token

PDF = b"%PDF-1.4\n% Ada's CV\n%%EOF\n"
SEARCH_ID = "a1b2c3d4e5"
SECTION = re.compile(r'/settings/team/sections/([a-z0-9-]+)')


@dataclass
class Caller:
    """One attacker: a browser session, plus the tokens and webhook secret of their own team."""
    name: str
    client: Client
    extension_token: str | None = None
    api_token: str | None = None
    hook_secret: str | None = None

    def headers(self, path: str) -> dict[str, str]:
        token = (self.extension_token if path.startswith("/panel") else
                 self.api_token if path.startswith("/api/") else
                 self.hook_secret if path.startswith("/hooks/") else None)
        if token is None:
            return {}
        return {"X-Shoal-Secret": token} if path.startswith("/hooks/") else {"Authorization": f"Bearer {token}"}


@dataclass
class World:
    values: dict[str, Any] = field(default_factory=dict)
    callers: dict[str, Caller] = field(default_factory=dict)


def _team(name: str) -> Team:
    team = Team(name=name)
    db.session.add(team)
    db.session.commit()
    return team


def _caller(app: Flask, name: str, user: User | None, addr: str, secrets: dict[int, str]) -> Caller:
    client = Client(app, addr=addr)
    if user is None:
        return Caller(name, client)
    client.login_as(user)
    _row, ext = issue_token(user)
    _row, api = issue_token(user, scope="api")
    if user.team_id not in secrets:   # one webhook secret per team (a new one revokes the last)
        secrets[user.team_id] = inbound.rotate_secret(user.team)
    return Caller(name, client, ext, api, secrets[user.team_id])


def configure(app: Flask, monkeypatch: Any) -> None:
    """What the world's forms need of the server: the mailbox form may name the loopback host, and
    sign-up has a mail server to send its link through."""
    monkeypatch.setitem(app.config, "SMTP_PRIVATE_HOSTS", ("127.0.0.1",))
    monkeypatch.setitem(app.config, "SYSTEM_MAIL_URL", "smtp://127.0.0.1:2525?security=none")


def build(app: Flask) -> World:
    team_a, team_b = _team("Acme Talent"), _team("Bolt Recruiting")
    admin = make_user(team_a.id, "admin", "ada.admin@acme.test")
    rita = make_user(team_a.id, "recruiter", "rita@acme.test")
    sam = make_user(team_a.id, "recruiter", "sam@acme.test")
    bob = make_user(team_b.id, "admin", "bob@bolt.test")
    conn = Connection(team_id=team_a.id, provider_key="cats", base_url="http://127.0.0.1:9" + API_ROOT,
                      credentials_encrypted=encrypt_credentials(DEFAULT_CREDENTIALS), status="connected")
    campaign = Campaign(team_id=team_a.id, owner_id=rita.id, name="Backend engineers", sync_as="candidate")
    person = Person(team_id=team_a.id, first_name="Grace", last_name="Hopper", email="grace@example.com",
                    linkedin_url="https://www.linkedin.com/in/grace-h", linkedin_key="in/grace-h", extra={})
    filterable = SettingsLayer(team_id=team_a.id, provider_key="cats",
                               values={"filterable_fields.candidate": ["email"]})
    db.session.add_all([conn, campaign, person, filterable])
    db.session.commit()
    enrolment = Enrolment(team_id=team_a.id, campaign_id=campaign.id, person_id=person.id, added_by_id=rita.id)
    db.session.add(enrolment)
    db.session.commit()
    event = OutreachEvent(team_id=team_a.id, enrolment_id=enrolment.id, person_id=person.id, kind="added",
                          created_by_id=rita.id, data={})
    db.session.add(event)
    db.session.commit()
    intent = SyncIntent(team_id=team_a.id, connection_id=conn.id, person_id=person.id, enrolment_id=enrolment.id,
                        event_id=event.id, idempotency_key=f"evt{event.id}-conn{conn.id}", state="parked",
                        reason="refused by the CRM: email is invalid", attempts=3)
    db.session.add(intent)
    email_step, call_step = (steps.add_step(campaign, {"kind": "email", "subject": "Hello", "body_text": "Hi",
                                                       "delay_days": "0", "delay_hours": "0"}),
                             steps.add_step(campaign, {"kind": "call", "body_text": "Ring them",
                                                       "delay_days": "1", "delay_hours": "0"}))
    email_run = StepRun(team_id=team_a.id, enrolment_id=enrolment.id, step_id=email_step.id, campaign_id=campaign.id,
                        kind="email", state="failed", reason="The mail server refused the message (code 554)")
    sam_person = Person(team_id=team_a.id, first_name="Alan", last_name="Turing", email="alan@example.com", extra={})
    db.session.add_all([email_run, sam_person])
    db.session.commit()
    sam_enrolment = Enrolment(team_id=team_a.id, campaign_id=campaign.id, person_id=sam_person.id,
                              added_by_id=rita.id)
    db.session.add(sam_enrolment)
    db.session.commit()
    task_run = StepRun(team_id=team_a.id, enrolment_id=sam_enrolment.id, step_id=call_step.id,
                       campaign_id=campaign.id, kind="call", state="open", assignee_id=rita.id)
    db.session.add_all([task_run, SequenceState(team_id=team_a.id, enrolment_id=sam_enrolment.id,
                                                campaign_id=campaign.id, status="in_progress",
                                                next_step_id=call_step.id)])
    message = InboundMessage(team_id=team_a.id, message_id="<r1@mail.example>", from_addr="grace@example.com",
                             subject="Re: the role", text="Keen!", status="unmatched")
    entry = Suppression(team_id=team_a.id, value="@competitor.test", created_by_id=admin.id)
    bulk = BulkImport(team_id=team_a.id, campaign_id=campaign.id, created_by_id=rita.id, filename="people.csv",
                      header=["first_name", "email"], rows=[["Joan", "joan@example.com"]],
                      mapping={"first_name": "first_name", "email": "email"}, state="uploaded")
    ready = BulkImport(team_id=team_a.id, campaign_id=campaign.id, created_by_id=rita.id, filename="ready.csv",
                       header=["first_name"], rows=[["Kay"]], mapping={"first_name": 0}, state="validated",
                       profiles=[{"first_name": "Kay"}])
    mailbox = Mailbox(team_id=team_a.id, user_id=rita.id, from_address="rita@acme.test", host="127.0.0.1", port=2525,
                      security="none")
    db.session.add_all([message, entry, bulk, ready, mailbox])
    db.session.commit()
    cv = cvs.upload(rita, person, PDF, "grace.pdf").cv
    get_redis().set(f"shoal:crm-search:{SEARCH_ID}", json.dumps({
        "team_id": team_a.id, "connection_id": conn.id, "record_type": "candidate", "filters": {"email": "x"},
        "cursor": None, "state": "done", "items": [{"remote_id": "77", "fields": {"first_name": "Kay"}, "url": ""}]}))
    _invite, invite_token = create_invite(admin, {"email": "new@acme.test", "role": "recruiter"})
    signup.request_signup({"team_name": "Cobalt", "name": "Cy", "email": "cy@cobalt.test",
                           "password": "a long enough password"})
    [pending] = get_redis().keys("shoal:signup:*")
    _reset, reset_token = issue_reset(admin, sam)
    world = World()
    secrets: dict[int, str] = {}
    world.callers = {name: _caller(app, name, user, f"198.51.100.{n}", secrets) for n, (name, user) in enumerate(
        (("anonymous", None), ("recruiter", rita), ("other_admin", bob), ("admin", admin)), start=1)}
    section = SECTION.search(Client(app, addr="198.51.100.4").login_as(admin).get(
        "/integrations/cats").get_data(as_text=True))
    failures = sync_health.failure_groups(conn.id)
    world.values = {
        "campaign_id": campaign.id, "person_id": person.id, "enrolment_id": enrolment.id, "event_id": event.id,
        "intent_id": intent.id, "connection_id": conn.id, "step_id": email_step.id, "run_id": email_run.id,
        "task_run_id": task_run.id, "import_id": bulk.id, "ready_import_id": ready.id, "message_id": message.id,
        "entry_id": entry.id, "cv_id": cv.id, "user_id": sam.id, "rita_id": rita.id, "team_a": team_a.id,
        "token_id": _token_id(rita), "sid": SEARCH_ID,
        "section": section.group(1) if section else "missing", "key": "cats",
        "failure_key": failures[0].key if failures else "missing", "which": "team", "filename": "app.js",
        "invite_token": invite_token, "reset_token": reset_token,
        "signup_token": decrypt_credentials(get_redis().get(pending))["token"],
        "unsubscribe_token": unsubscribe.token_for(email_run.id),
    }
    return world


def _token_id(user: User) -> int:
    return db.session.query(ExtensionToken.id).filter_by(user_id=user.id, scope="extension").scalar()
