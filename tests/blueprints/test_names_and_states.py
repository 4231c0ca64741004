"""What a new user tripped on, on the pages: ids and snake_case shown to users ("rule 9",
"add_to_list", "cats"), and a rate-limited push sitting on "Queued" with no reason."""
from __future__ import annotations

from datetime import timedelta

from core import db
from crypto import encrypt_credentials
from models import AuditEntry, Connection, Person, SyncIntent, utcnow


def _setup(b):
    conn = Connection(team_id=b.user.team_id, provider_key="cats", base_url="http://127.0.0.1:9/v3",
                      credentials_encrypted=encrypt_credentials({"api_key": "k"}), status="connected")
    person = Person(team_id=b.user.team_id, first_name="Ada", last_name="Lovelace", email="ada@example.com")
    db.session.add_all([conn, person])
    db.session.commit()
    return conn, person


def test_audit_log_and_pages_speak_in_names(logged_in):
    b = logged_in("admin")
    conn, person = _setup(b)
    db.session.add(AuditEntry(team_id=b.user.team_id, connection_id=conn.id, person_id=person.id,
                              operation="add_to_list", rule="rule 9: target areas", record_type="candidate",
                              remote_id="17", result="ok", summary="Added to list Hot leads",
                              fields_after={"first_name": "Ada"}))
    db.session.commit()
    html = b.get("/activity").get_data(as_text=True)
    assert "Added to a list · Candidate" in html and "Target areas" in html and "Done" in html
    assert "add_to_list" not in html and "rule 9" not in html and "first_name" not in html.split('id="audit"')[1]
    assert "Your team syncs to <strong>CATS</strong>" in b.get("/integrations/").get_data(as_text=True)


def test_a_rate_limited_push_says_why_and_when_the_next_call_is(logged_in):
    b = logged_in("admin")
    conn, person = _setup(b)
    intent = SyncIntent(team_id=b.user.team_id, connection_id=conn.id, person_id=person.id, idempotency_key="k1",
                        state="queued", reason="rate limited: rate budget of 60 calls/min in use",
                        next_attempt_at=utcnow() + timedelta(seconds=7))
    db.session.add(intent)
    db.session.commit()
    frag = b.get(f"/intents/{intent.id}/status", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Waiting for CATS&#39;s rate limit, next call in ~" in frag or "Waiting for CATS's rate limit, next call in ~" in frag
    assert any(f"next call in ~{n} s" in frag for n in (5, 6, 7))
    assert 'hx-trigger="load delay:' in frag                  # keeps polling until it goes
    # An ordinary queued push is just "Queued".
    intent.reason, intent.next_attempt_at = None, None
    db.session.commit()
    frag = b.get(f"/intents/{intent.id}/status", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Queued" in frag and "rate limit" not in frag


def test_people_list_with_search_is_team_scoped(logged_in):
    b = logged_in("recruiter")
    assert "No people yet" in b.get("/people/").get_data(as_text=True)
    db.session.add_all([Person(team_id=b.user.team_id, first_name="Ada", last_name="Lovelace",
                               email="ada@analytical.example", company="Globex Corp", title="Engineer"),
                        Person(team_id=b.user.team_id, first_name="Grace", last_name="Hopper", email="grace@navy.example")])
    other = logged_in("admin")
    db.session.add(Person(team_id=other.user.team_id, first_name="Ada", last_name="Elsewhere", email="ada@other.example"))
    db.session.commit()
    page = b.get("/people/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and "Ada Lovelace" in html and "Grace Hopper" in html
    assert "Ada Elsewhere" not in html
    frag = b.get("/people/?q=globex engineer", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert frag.lstrip().startswith('<div id="people-results"') and "<html" not in frag
    assert "Ada Lovelace" in frag and "Grace" not in frag and "1 person" in frag
    assert "Nobody matches" in b.get("/people/?q=zzz").get_data(as_text=True)
    assert b.get("/people/?page=x").status_code == 200 and b.get("/people/?q=" + "a" * 5000).status_code == 200
