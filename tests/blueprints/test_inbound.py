"""The inbound-mail webhook and the Inbox page, through the Flask test client with CSRF on: the
per-team secret (401 and nothing recorded when wrong), matching a reply to its sent email by
In-Reply-To / References, unmatched replies kept and assigned by hand, the same Message-ID posted
twice, bad bodies (422 naming the field) and attachments refused with their reason."""
from __future__ import annotations

import base64

from sqlalchemy import func, select

from core import db
from models import CvFile, Enrolment, InboundMessage, OutreachEvent, Team
from services import inbound
from services.enrolments import enrol, record_event
from sync_support import campaign, profile

PDF = b"%PDF-1.4\n% Ada's CV\n%%EOF\n"


def count(model, **where):
    db.session.expire_all()
    q = select(func.count()).select_from(model)
    for k, v in where.items():
        q = q.where(getattr(model, k) == v)
    return db.session.scalar(q)


def setup_team(make_user, n=1):
    """An admin, a campaign with one member, an email "sent" to them (Message-ID recorded), and
    the team's webhook secret."""
    user = make_user("admin")
    camp = campaign(user, sync_as="none")
    enrolment, _ = enrol(user, camp, profile(n))
    record_event(enrolment, "email_sent", channel="email", body="Intro",
                 data={"message_id": f"<sent{n}@shoal.example>"})
    secret = inbound.rotate_secret(db.session.get(Team, user.team_id))
    return user, enrolment, secret


def post(client, secret, body, **kw):
    headers = {"X-Shoal-Secret": secret} if secret is not None else {}
    return client.post("/hooks/inbound-mail", json=body, headers=headers, **kw)


def mail(n=1, **kw):
    body = {"from": f"Ada {n} <ADA{n}@example.com>", "to": "sam@agency.example", "subject": "Re: Intro",
            "text": "Keen to talk next week", "message_id": f"<reply{n}@mail.example>",
            "in_reply_to": f"<sent{n}@shoal.example>"}
    body.update(kw)
    return body


def test_a_wrong_or_missing_secret_is_401_and_records_nothing(app, make_user):
    _user, _enrolment, secret = setup_team(make_user)
    client = app.test_client()
    events = count(OutreachEvent)
    for bad in (None, "", "whsec_wrong", secret + "x"):
        r = post(client, bad, mail())
        assert r.status_code == 401 and "secret" in r.get_json()["message"]
    r = client.post("/hooks/inbound-mail?key=nope", json=mail())
    assert r.status_code == 401
    assert count(InboundMessage) == 0 and count(OutreachEvent) == events


def test_a_reply_is_matched_by_in_reply_to_and_recorded_once(app, make_user):
    _user, enrolment, secret = setup_team(make_user)
    client = app.test_client()
    r = post(client, secret, mail())
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["status"] == "matched" and body["enrolment_id"] == enrolment.id
    assert body["matched_by"] == "In-Reply-To"
    [reply] = db.session.scalars(select(OutreachEvent).where(OutreachEvent.kind == "reply")).all()
    assert reply.id == body["event_id"] and reply.enrolment_id == enrolment.id
    assert "Keen to talk next week" in reply.body and "Re: Intro" in reply.body
    assert reply.channel == "email"
    # The provider retries: the same Message-ID is one message and one event.
    again = post(client, secret, mail()).get_json()
    assert again["status"] == "duplicate" and again["event_id"] == reply.id
    assert count(OutreachEvent, kind="reply") == 1 and count(InboundMessage) == 1


def test_references_match_when_in_reply_to_names_another_email(app, make_user):
    _user, enrolment, secret = setup_team(make_user)
    r = post(app.test_client(), secret, mail(in_reply_to="<someone-else@mail.example>",
                                             references="<first@x> <sent1@shoal.example>"))
    assert r.get_json()["status"] == "matched" and r.get_json()["matched_by"] == "References"
    assert r.get_json()["enrolment_id"] == enrolment.id


def test_the_secret_can_come_as_a_query_key_or_a_bearer_token(app, make_user):
    _user, _enrolment, secret = setup_team(make_user)
    client = app.test_client()
    assert client.post(f"/hooks/inbound-mail?key={secret}", json=mail(message_id="<q@x>")).status_code == 200
    r = client.post("/hooks/inbound-mail", json=mail(message_id="<b@x>"), headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200


def test_multipart_with_header_style_names_and_a_cv_file(app, make_user):
    _user, enrolment, secret = setup_team(make_user)
    data = {"from": "ada1@example.com", "Message-ID": "<mp1@mail.example>", "In-Reply-To": "<sent1@shoal.example>",
            "subject": "Re: Intro", "text": "CV attached", "attachment1": (__import__("io").BytesIO(PDF), "My CV.pdf")}
    r = app.test_client().post("/hooks/inbound-mail", data=data, headers={"X-Shoal-Secret": secret},
                               content_type="multipart/form-data")
    assert r.status_code == 200, r.get_data(as_text=True)
    [att] = r.get_json()["attachments"]
    assert att["accepted"] is True and att["filename"] == "My CV.pdf"
    [cv] = db.session.scalars(select(CvFile)).all()
    assert cv.person_id == enrolment.person_id and cv.source == "reply" and cv.kind == "pdf"


def test_bad_bodies_are_422_naming_the_field_and_record_nothing(app, make_user):
    _user, _enrolment, secret = setup_team(make_user)
    client = app.test_client()
    cases = [({"from": "ada@example.com"}, "message_id"),
             (mail(**{"from": "not an address"}), "from"),
             (mail(attachments=[{"filename": "cv.pdf", "content": "***not base64***"}]), "attachments"),
             (mail(references=42), "references")]
    for body, field in cases:
        r = post(client, secret, body)
        assert r.status_code == 422, body
        assert field in r.get_json()["fields"], r.get_json()
    r = client.post("/hooks/inbound-mail", data="[1, 2]", content_type="application/json",
                    headers={"X-Shoal-Secret": secret})
    assert r.status_code == 422
    assert count(InboundMessage) == 0 and count(OutreachEvent, kind="reply") == 0


def test_oversized_and_executable_attachments_are_refused_with_the_reason(app, make_user):
    _user, _enrolment, secret = setup_team(make_user)
    big = b"%PDF-1.4\n" + b"0" * (30 * 1024 * 1024)
    exe = b"MZ\x90\x00\x03" + b"\x00" * 200
    attachments = [{"filename": "cv.pdf", "content": base64.b64encode(big).decode()},
                   {"filename": "cv.pdf.exe", "content": base64.b64encode(exe).decode()},
                   {"filename": "photo.png", "content": base64.b64encode(b"\x89PNG\r\n\x1a\n...").decode()}]
    r = post(app.test_client(), secret, mail(attachments=attachments))
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "matched"      # the reply itself still counts
    big_r, exe_r, png_r = body["attachments"]
    assert not big_r["accepted"] and "30.0 MB" in big_r["reason"] and "limit" in big_r["reason"]
    assert not exe_r["accepted"] and "Windows program" in exe_r["reason"]
    assert not png_r["accepted"] and "not a PDF, DOC or DOCX" in png_r["reason"]
    assert count(CvFile) == 0


def test_an_unmatched_reply_is_kept_listed_and_assigned_by_hand(app, make_user, logged_in):
    b = logged_in("admin")
    camp = campaign(b.user, sync_as="none")
    enrolment, _ = enrol(b.user, camp, profile(7))
    secret = inbound.rotate_secret(db.session.get(Team, b.user.team_id))
    r = post(app.test_client(), secret, mail(7, in_reply_to="<unknown@elsewhere>",
                                             attachments=[{"filename": "cv.pdf",
                                                           "content": base64.b64encode(PDF).decode()}]))
    assert r.get_json()["status"] == "unmatched"
    assert count(OutreachEvent, kind="reply") == 0
    [cv] = db.session.scalars(select(CvFile)).all()
    assert cv.person_id is None     # whose it is isn't known yet

    page = b.get("/inbox/").get_data(as_text=True)
    msg = db.session.scalars(select(InboundMessage)).one()
    assert f'id="inbound-{msg.id}"' in page and "Keen to talk next week" in page
    assert f'value="{enrolment.id}"' in page          # the sender is a member: offered as the match
    r = b.post(f"/inbox/{msg.id}/assign", {"enrolment_id": str(enrolment.id)}, page="/inbox/")
    assert r.status_code == 303
    db.session.expire_all()
    assert msg.status == "assigned" and msg.event_id is not None
    assert count(OutreachEvent, kind="reply") == 1
    assert db.session.get(CvFile, cv.id).person_id == enrolment.person_id
    # Assigning twice records nothing more.
    b.post(f"/inbox/{msg.id}/assign", {"enrolment_id": str(enrolment.id)}, page="/inbox/")
    assert count(OutreachEvent, kind="reply") == 1


def test_inbox_is_team_scoped_and_the_secret_is_for_admins(app, make_user, logged_in):
    _user, _enrolment, secret = setup_team(make_user)
    post(app.test_client(), secret, mail(in_reply_to="<nope@x>"))
    msg = db.session.scalars(select(InboundMessage)).one()
    other = logged_in("admin")                        # another team
    assert msg.id and f'id="inbound-{msg.id}"' not in other.get("/inbox/").get_data(as_text=True)
    assert other.post(f"/inbox/{msg.id}/assign", {"enrolment_id": "1"}, page="/inbox/").status_code == 404
    assert other.post(f"/inbox/{msg.id}/dismiss", {}, page="/inbox/").status_code == 404

    recruiter = logged_in("recruiter", team=db.session.get(Team, msg.team_id))
    page = recruiter.get("/inbox/").get_data(as_text=True)
    assert secret not in page and 'id="webhook"' not in page
    assert recruiter.post("/inbox/secret", {}, page="/inbox/").status_code == 403

    admin = logged_in("admin", team=db.session.get(Team, msg.team_id))
    assert secret in admin.get("/inbox/").get_data(as_text=True)
    assert admin.post("/inbox/secret", {}, page="/inbox/").status_code == 303
    new_page = admin.get("/inbox/").get_data(as_text=True)
    assert secret not in new_page and "whsec_" in new_page
    # The old secret stopped working at once.
    assert post(app.test_client(), secret, mail(message_id="<late@x>")).status_code == 401
    assert count(Enrolment) == 1


def test_a_subject_longer_than_the_column_is_kept_cut_not_a_500(app, make_user):
    # RFC 5322 allows 998 characters; the column keeps 500 (PostgreSQL would refuse more).
    _user, _enrolment, secret = setup_team(make_user)
    r = post(app.test_client(), secret, mail(subject="Re: " + "x" * 994))
    assert r.status_code == 200
    assert len(db.session.scalars(select(InboundMessage)).one().subject) == 500


def test_guessing_the_secret_is_rate_limited_but_the_right_one_never_counts(app, make_user):
    _user, _enrolment, secret = setup_team(make_user)
    client = app.test_client()
    n = int(app.config["WEBHOOK_AUTH_FAILURE_RATE_LIMIT"].split()[0])
    for i in range(n + 3):
        assert post(client, secret, mail(message_id=f"<ok{i}@x>")).status_code == 200
    for i in range(n):
        assert post(client, f"whsec_guess{i}", mail()).status_code == 401
    assert post(client, "whsec_next", mail()).status_code == 429
