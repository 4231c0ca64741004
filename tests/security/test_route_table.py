"""Every route of the URL map, as three attackers: nobody (no session, no token), Rita (a recruiter of
team A, who owns every team-A object named in the URL) and Bob (an admin of team B) against team
A's objects. A route missing from ROUTES fails `test_every_route_is_in_the_table`, so a new route
can't be added without deciding who may use it.

Statuses: pages send nobody to the login page; the panel, the API and the webhook answer 401; Rita
gets 403 on what only an admin may do and 2xx/3xx (or the route's own refusal, named in `why`) on
her team's objects; Bob gets 404 for every team-A object. Routes that name no object (lists, "my"
account, "my team's" settings) answer Bob about his own team. Each POST carries a valid CSRF token
and a body that gets past validation, so the status is the route's decision, not CSRF's or a
schema's. Each route runs in a fresh world: one route's effect (a delete, a deactivation) can't
change another's answer."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core import db

from route_table import HX_LOGIN, LOGIN, Row, Upload, excerpt, matches, routes, send, url_for_rule
from route_world import PDF, build, configure

OK = (200, 302, 303)
PROFILE = {"campaign_id": "{campaign_id}", "first_name": "Joan", "last_name": "Clarke",
           "email": "joan@example.com", "linkedin_url": "https://www.linkedin.com/in/joan-c"}
CSV = "first_name,email\nJoan,joan@example.com\n"


def page(recruiter=200, other=404, **kw) -> dict[str, Row]:
    return {"GET": Row(HX_LOGIN if kw.get("htmx") else LOGIN, recruiter, other, **kw)}


def action(recruiter=OK, other=404, **kw) -> dict[str, Row]:
    return {"POST": Row(LOGIN, recruiter, other, **kw)}


def admin_page(other=404, **kw) -> dict[str, Row]:
    return {"GET": Row(LOGIN, 403, other, **kw)}


def admin_action(other=404, **kw) -> dict[str, Row]:
    return {"POST": Row(LOGIN, 403, other, **kw)}


def panel(method: str, recruiter=200, other=404, **kw) -> dict[str, Row]:
    return {method: Row(401, recruiter, other, **kw)}


def api(method: str, recruiter=200, other=404, **kw) -> dict[str, Row]:
    return {method: Row(401, recruiter, other, **kw)}


def public(method: str, status=200, **kw) -> dict[str, Row]:
    return {method: Row(status, status, status, **kw)}


ROUTES: dict[str, dict[str, Row]] = {
    # -- public ---------------------------------------------------------------------------------
    "auth.root": {"GET": Row(LOGIN, 302, 302, why="to the login page, or to the campaigns")},
    "auth.login": {"GET": Row(200, 302, 302, why="a logged-in user goes on to the campaigns"),
                   "POST": Row(422, 422, 422, form={"email": "nobody@example.com", "password": "wrong password"})},
    "auth.logout": {"POST": Row(LOGIN, LOGIN, LOGIN)},
    "auth.signup": {"GET": Row(200, 200, 200),
                    "POST": Row(200, 200, 200, form={"team_name": "T", "name": "N", "email": "rita@acme.test",
                                                    "password": "correct horse battery"},
                                why="check your email, for a taken address too")},
    "auth.signup_confirm": {"GET": Row(200, 200, 200, values={"token": "signup_token"}),
                            "POST": Row(302, 404, 404, values={"token": "signup_token"},
                                        why="one use: the first to post creates the team, then the link is gone")},
    "auth.accept": {"GET": Row(200, 200, 200, values={"token": "invite_token"}),
                    "POST": Row(422, 422, 422, form={"name": ""}, values={"token": "invite_token"})},
    "auth.reset_password": {"GET": Row(200, 200, 200, values={"token": "reset_token"}),
                            "POST": Row(422, 422, 422, form={"password": "short"}, values={"token": "reset_token"})},
    "unsubscribe.confirm": public("GET", values={"token": "unsubscribe_token"}),
    "unsubscribe.opt_out": public("POST", values={"token": "unsubscribe_token"}),
    "probes.healthz": public("GET"),
    "probes.readyz": public("GET"),
    "static": public("GET"),
    "api-docs.openapi_json": public("GET"),
    "hooks.inbound_mail": {"POST": Row(401, 200, 200, json={"from": "x@example.com", "subject": "Hi", "text": "t",
                                                              "message_id": "<z1@mail.example>"},
                                       why="each team's own secret: B's mail lands in B's inbox")},
    # -- my account -----------------------------------------------------------------------------
    "account.index": page(other=200),
    "account.profile": action(other=OK, form={"name": "Renamed"}),
    "account.create_token": action(other=OK, form={"label": "Laptop"}),
    "account.create_api_token": action(other=OK, form={"api_label": "Script"}),
    "account.revoke_token": action(),
    "account.change_password": action(other=OK, form={"current": "correct horse battery",
                                                       "password": "a new long password", "confirm": "a new long password"}),
    "mailbox.save": action(other=OK, form={"from_address": "me@agency.test", "host": "127.0.0.1",
                                           "port": "587", "security": "starttls"}),
    "mailbox.test": action(recruiter=200, other=422, why="B has no mailbox saved"),
    "mailbox.test_status": page(other=200),
    # -- campaigns ------------------------------------------------------------------------------
    "campaigns.index": page(other=200),
    "campaigns.new": page(other=200),
    "campaigns.sync_options": page(other=200),
    "campaigns.create": action(other=OK, form={"name": "New", "type": "outreach", "sync_as": "none"}),
    "campaigns.show": page(),
    "campaigns.settings": page(htmx=True),
    "campaigns.sync_summary": page(),
    "campaigns.update": action(form={"name": "Renamed", "sync_as": "candidate"}),
    "campaigns.resync": action(),
    "campaigns.archive": action(),
    "campaigns.unarchive": action(),
    "campaigns.delete": action(recruiter=409, form={"confirm": "yes"}, why="it has members: archive instead"),
    "campaigns.add_member": action(form=PROFILE),
    "imports.upload_form": page(),
    "imports.upload": action(form={"file": Upload(CSV.encode(), "people.csv")}),
    "imports.show": page(),
    "imports.mapping": action(form={"map-first_name": "0", "map-email": "1"}),
    "imports.progress": page(),
    "imports.report": page(),
    "imports.start": action(values={"import_id": "ready_import_id"}),
    "sequences.show": page(),
    "sequences.people": page(),
    "sequences.add_step": action(form={"kind": "email", "subject": "Again", "body_text": "Hi again",
                                       "delay_days": "2", "delay_hours": "0"}),
    "sequences.edit_step": page(),
    "sequences.update_step": action(form={"kind": "email", "subject": "Hello!", "body_text": "Hi",
                                          "delay_days": "0", "delay_hours": "0"}),
    "sequences.delete_step": action(),
    "sequences.move_step": action(form={"direction": "down"}),
    "sequences.control": action(values={"action": "start"}),
    "sequences.run_action": action(values={"action": "retry"}),
    "tasks.index": page(other=200),
    "tasks.close": action(values={"run_id": "task_run_id", "action": "done"}),
    # -- people ---------------------------------------------------------------------------------
    "people.index": page(other=200),
    "people.show": page(),
    "people.edit": action(form={"first_name": "Grace", "last_name": "Hopper", "title": "Admiral"}),
    "people.record": action(form={"kind": "reply", "note": "Keen"}),
    "people.crm_fields": page(),
    "people.save_crm_fields": action(),
    "trail.person": page(),
    "cvs.upload": action(form={"cv": Upload(PDF, "cv.pdf")}),
    "cvs.download": page(),
    "activity.index": page(other=200),
    "activity.intent_status": page(),
    "activity.retry": action(),
    # -- inbox ----------------------------------------------------------------------------------
    "inbound.index": page(other=200),
    "inbound.assign": action(form={"enrolment_id": "{enrolment_id}"}),
    "inbound.dismiss": action(),
    "inbound.rotate_secret": admin_action(other=OK),
    # -- search ---------------------------------------------------------------------------------
    "search.index": page(other=200),
    "search.fields": page(other=200),
    "search.run": action(other=409, why="B has no CRM to search",
                         form={"record_type": "candidate", "f-email": "kay@example.com"}),
    "search.results": page(),
    "search.add": action(form={"sid": "{sid}", "campaign_id": "{campaign_id}", "remote_id": "77"}),
    # -- admin: integrations, settings, health, team, outreach settings -------------------------
    "integrations.index": page(other=200),
    "integrations.connect": page(other=200, why="a recruiter sees the team's CRM's page (their own settings); B's "
                                 "admin may connect B's own CRM"),
    "integrations.activate": admin_action(other=OK, form={"api_key": "k-123"}),
    "integrations.validate_field": admin_action(other=200, form={"field": "api_key", "api_key": "k-123"}),
    "integrations.oauth_start": admin_page(values={"key": "smartrecruiters"}),
    "integrations.oauth_callback": admin_page(other=400, values={"key": "smartrecruiters"},
                                              why="B's own callback, with no sign-in started"),
    "integrations.oauth_connecting": admin_page(other=200, values={"key": "smartrecruiters"},
                                                why="B's own pop-up, about B's own (absent) sign-in"),
    "integrations.status": page(),
    "integrations.disconnect": admin_action(),
    "integrations.recheck": admin_action(),
    # "team" is the caller's own team: B has no CRM connected, so there is nothing to set (409).
    "settings.index": page(recruiter=302, other=302, why="a shortcut to the CRM's page"),
    "settings.page": page(recruiter=403, other=302),
    "settings.section": page(recruiter=403, other=409, htmx=True),
    "settings.save_section": action(recruiter=403, other=409),
    "settings.validate_row": action(recruiter=403, other=409, form={"row": "filterable_fields.candidate"}),
    "settings.options": page(recruiter=403, other=409),
    "settings.refresh": action(recruiter=403, other=409),
    "health.index": admin_page(other=200),
    "health.show": admin_page(),
    "health.live": admin_page(),
    "health.retry_group": admin_action(values={"key": "failure_key"}),
    "team.index": admin_page(other=200),
    "team.invite": admin_action(other=OK, form={"email": "new2@example.com", "role": "recruiter"}),
    "team.change_role": admin_action(form={"role": "admin"}),
    "team.deactivate": admin_action(),
    "team.reactivate": admin_action(),
    "team.reassign": admin_action(form={"to": "{rita_id}"}),
    "team.reset_link": admin_action(),
    "team.revoke_token": admin_action(),
    "outreach_settings.index": admin_page(other=200),
    "outreach_settings.save_hours": admin_action(other=OK, form={"time_zone": "Europe/London", "work_start_hour": "9",
                                                                 "work_end_hour": "17", "work_days": ["0", "1"]}),
    "outreach_settings.add_suppression": admin_action(other=OK, form={"value": "spam@example.com"}),
    "outreach_settings.remove_suppression": admin_action(),
    # -- the side panel (extension token) -------------------------------------------------------
    "panel.me": panel("GET", other=200),
    "panel.profile_card": {**panel("GET", other=200), **panel("POST", other=200, form={
        **PROFILE, "email": "grace@example.com"})},
    "panel.match": panel("POST", other=200, form={**PROFILE, "email": "grace@example.com",
                                                   "linkedin_url": "https://www.linkedin.com/in/grace-h"},
                         why="B asks about team A's person: B's answer must not know her"),
    "panel.extras": panel("POST", form=PROFILE),
    "panel.preview": panel("POST", form=PROFILE),
    "panel.enrol_form": panel("POST", form=PROFILE),
    "panel.enrol_json": panel("POST", recruiter=201, json={"campaign_id": "{campaign_id}", "profile": {
        "first_name": "Joan", "email": "joan@example.com"}}),
    "panel.intent_status": panel("GET"),
    "panel.activity": panel("GET"),
    "panel.record_activity": panel("POST", form={"enrolment_id": "{enrolment_id}", "kind": "reply"}),
    "panel.upload_cv": panel("POST", form={"cv": Upload(PDF, "cv.pdf")}),
    # -- the JSON API (API token) ---------------------------------------------------------------
    "api_campaigns.list_campaigns": api("GET", other=200),
    "api_campaigns.create_campaign": api("POST", recruiter=201, other=201,
                                         json={"name": "Via API", "sync_as": "none"}),
    "api_campaigns.get_campaign": api("GET"),
    "api_people.list_people": api("GET", other=200),
    "api_people.create_person": api("POST", recruiter=201, other=201, json={"first_name": "Joan"}),
    "api_people.get_person": api("GET"),
    "api_enrolments.list_enrolments": api("GET", other=200),
    "api_enrolments.create_enrolment": api("POST", recruiter=(200, 201), json={
        "campaign_id": "{campaign_id}", "person_id": "{person_id}"}),
    "api_enrolments.get_enrolment": api("GET"),
    "api_enrolments.list_events": api("GET"),
    "api_enrolments.post_event": api("POST", recruiter=201, json={"kind": "reply", "body": "Keen"}),
    "api_events.get_event": api("GET"),
}


@pytest.fixture
def world(app, monkeypatch):
    configure(app, monkeypatch)
    return build(app)


def test_every_route_is_in_the_table(app):
    """A route the table doesn't list (or a row for a route that is gone) fails here."""
    present = {(endpoint, method) for endpoint, method, _rule in routes(app)}
    listed = {(endpoint, method) for endpoint, rows in ROUTES.items() for method in rows}
    assert sorted(present - listed) == [], "routes missing from ROUTES"
    assert sorted(listed - present) == [], "rows for routes that don't exist"


CASES = [(endpoint, method) for endpoint, rows in ROUTES.items() for method in rows]
# Words only team A's rows hold (no request body carries them): a page or answer given to nobody or
# to team B that contains one has leaked team A's data.
TEAM_A_WORDS = ("Acme Talent", "Backend engineers", "Hopper", "rita@acme.test", "Ring them", "competitor.test")
FORM_ERRORS = ('class="errors"', 'class="field-error"', 'class="flash flash-error"')


def _team_a_rows(world) -> list[str]:
    """Every team-A row, as text: what nobody and team B's admin must leave as they found it."""
    rows = []
    for table in db.metadata.sorted_tables:
        if "team_id" in table.c:
            found = db.session.execute(select(table).where(table.c.team_id == world.values["team_a"])
                                       .order_by(*table.primary_key.columns)).all()
            rows.extend(f"{table.name}:{tuple(r)}" for r in found)
    return rows


@pytest.mark.parametrize("endpoint,method", CASES, ids=[f"{m} {e}" for e, m in CASES])
def test_each_caller_gets_what_the_table_says(app, world, endpoint, method):
    row = ROUTES[endpoint][method]
    rules = [rule for e, m, rule in routes(app) if (e, m) == (endpoint, method)]
    assert rules, "no such route (see test_every_route_is_in_the_table)"
    protected = row.anonymous in (LOGIN, HX_LOGIN, 401)
    wrong = []
    for rule in rules:
        url = url_for_rule(rule, row, world)
        before = _team_a_rows(world) if protected else None
        assert before is None or len(before) > 20
        # Nobody and team B's admin first: what they send must change nothing Rita then finds.
        for name in ("anonymous", "other_admin", "recruiter"):
            if name == "recruiter" and protected:
                db.session.expire_all()
                assert _team_a_rows(world) == before, f"{method} {url} changed team A's rows before Rita came"
            r = send(world.callers[name], method, url, row, world)
            body = r.get_data(as_text=True)
            assert r.status_code < 500 and "Traceback" not in body, (name, url, r.status_code)
            if name != "recruiter" and protected:
                assert not [w for w in TEAM_A_WORDS if w in body], (name, url, excerpt(body))
            if name == "recruiter" and 300 <= r.status_code < 400 and r.headers.get("Location", "").startswith("/"):
                body = world.callers[name].client.get(r.headers["Location"]).get_data(as_text=True)   # its flash
            if name == "recruiter" and 200 <= r.status_code < 400:
                assert not any(e in body for e in FORM_ERRORS), (url, "a success with errors", excerpt(body))
            if not matches(getattr(row, name), r):
                wrong.append(f"{name}: {method} {url} -> {r.status_code} {r.headers.get('Location', '')}, "
                             f"expected {getattr(row, name)}: {excerpt(body)}")
    assert wrong == []
