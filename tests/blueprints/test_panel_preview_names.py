"""The panel's Preview ("what will be written") speaks in names: the job, tags, lists and statuses the
CRM calls them, its field labels and pick-list option texts, and the company decision, never a CRM
id or one of our snake_case keys. For CATS, SmartRecruiters and Pinpoint, against their simulators."""
from __future__ import annotations

import re
from html import unescape

import pytest
import requests
from sync_support import connect, sandbox_state, tag_a_pinpoint_application, team_settings

from core import db
from models import Campaign, CrmLink, Person
from services import panel_lookup
from services.crm_options import cached
from services.settings import options_for
from services.tokens import issue_token

PERSON = {"first_name": "Lin", "last_name": "Park", "email": "lin.park@example.com", "title": "Staff Engineer",
          "company": "Acme", "linkedin_url": "https://www.linkedin.com/in/lin-park/"}
RECORD_TYPES = {"cats": "candidate", "smartrecruiters": "candidate", "pinpoint": "application"}
SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")


def visible_text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("key", list(RECORD_TYPES))
def test_preview_names_every_choice_and_shows_no_id_or_key(app, sandbox, make_user, run_worker, key):
    server = sandbox(key)
    requests.post(f"{server.base}/__sandbox/rate_limit", json={"calls": 0}, timeout=5).raise_for_status()
    if key == "pinpoint":
        tag_a_pinpoint_application(server)
    user = make_user("recruiter")
    conn = connect(user, key, server)
    rt = RECORD_TYPES[key]
    campaign = Campaign(team_id=user.team_id, owner_id=user.id, name="Platform", sync_as=rt,
                        sync_override={f"add_{rt}": "added"})
    db.session.add(campaign)
    db.session.commit()
    _row, token = issue_token(user)
    headers = {"Authorization": f"Bearer {token}", "HX-Request": "true"}
    client = app.test_client()
    form = {**PERSON, "campaign_id": campaign.id}
    client.post("/panel/extras", data=form, headers=headers)
    panel_lookup.cached("fields", conn, {"record_type": rt})
    run_worker()
    # Display every custom field the CRM has for the record type: pick-lists, text, yes/no.
    defs = [d for d in panel_lookup.peek("fields", conn, {"record_type": rt})["fields"] if d.get("custom")]
    assert defs, "the simulator has custom fields"
    settings = {f"displayed_fields.{rt}": [d["key"] for d in defs], "company_info": True, "company_warning": True}
    if key == "cats":
        # A typed note on "added": CATS's note types are keys like "call_talked".
        settings |= {"note_sources": ["added"], f"note_mapping.{rt}": {"added": "call_talked"}}
    team_settings(user, key, settings)
    client.post("/panel/extras", data=form, headers=headers)
    options_for(conn)
    run_worker()
    picks = cached(conn.id, rt)
    choice = {**form, "opt_shown": "1", "fields_shown": "1"}
    shown_names, ids = [], set()
    job_id, job_name = picks["jobs"][0]
    choice["opt_job_id"] = job_id
    shown_names.append(job_name.split(" · ")[0])
    ids.add(str(job_id))
    for area, opt in (("tags", "opt_tags"), ("lists", "opt_lists")):
        chosen = (picks.get(area) or [])[:2]
        if chosen:
            choice[opt] = [""] + [str(i) for i, _n in chosen]
            shown_names += [n for _i, n in chosen]
            ids |= {str(i) for i, n in chosen if str(i) != n}
    if picks.get("statuses"):
        status_id, status_name = picks["statuses"][0]
        choice["opt_status"] = status_id
        shown_names.append(status_name)
        ids.add(str(status_id))
    for d in defs:
        ids |= {d["key"], d["key"].split(":", 1)[-1]}
        if d["type"] in ("select", "multiselect") and d.get("options"):
            opt_id, opt_text = d["options"][0]
            choice[f"x:{d['key']}"] = opt_id
            shown_names += [d["label"], opt_text]
            if str(opt_id) != opt_text:
                ids.add(str(opt_id))
        elif d["type"] == "text":
            choice[f"x:{d['key']}"] = "Four weeks"
            shown_names.append(d["label"])
    if key == "cats":
        companies = {c["name"]: c["id"] for c in sandbox_state(server)["tables"]["companies"]}
        choice["company_choice"] = "Acme Ltd"
        shown_names += ["Acme Ltd", "Add a note of type Call (talked)"]
        ids.add(str(companies["Acme Ltd"]))

    r = client.post("/panel/preview", data=choice, headers=headers)
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html
    text = visible_text(html)
    for name in shown_names:
        assert name in text, (name, text)
    leaked = sorted(i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text))
    assert leaked == [], (leaked, text)
    assert SNAKE.findall(text) == [], text

    # Already linked to a record: the preview says so without the record's id.
    person = Person(team_id=user.team_id, first_name="Lin", last_name="Park", email=PERSON["email"])
    db.session.add(person)
    db.session.flush()
    db.session.add(CrmLink(team_id=user.team_id, person_id=person.id, connection_id=conn.id, record_type=rt,
                           remote_id="987654"))
    db.session.commit()
    text = visible_text(client.post("/panel/preview", data=choice, headers=headers).get_data(as_text=True))
    assert "(linked)" in text and "987654" not in text, text
    assert SNAKE.findall(text) == [], text
