"""Team management: the members page and fragment, role changes, deactivation (sessions and tokens
stop at once, history stays), reassigning a leaver's campaigns, every token of the team, password
change and the admin-issued reset link. Another team's member: 404; a recruiter: 403."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from core import db
from models import Campaign, ExtensionToken, PasswordReset, Team, User, utcnow
from services.accounts import sha256
from services.tokens import issue_token, user_for_token


def _member(make_user, admin_browser, role="recruiter", email=None):
    return make_user(role, team=admin_browser.user.team, email=email)


def test_team_page_full_and_fragment(logged_in, make_user):
    admin = logged_in("admin")
    rec = _member(make_user, admin, email="rita@example.com")
    issue_token(rec, "Rita's laptop")
    page = admin.get("/team")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and "rita@example.com" in html
    assert "Rita&#39;s laptop" in html and "Never" in html   # Rita never signed in
    frag = admin.get("/team", headers={"HX-Request": "true"})
    body = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in body and body.lstrip().startswith('<section id="team"')
    # The admin's own row shows activity: they just signed in.
    assert re.search(r'id="member-%d".*?\d{2} \w{3} \d{4} \d{2}:\d{2}' % admin.user.id, html, re.S)


def test_change_role_and_last_admin_cannot_step_down(logged_in, make_user):
    admin = logged_in("admin")
    rec = _member(make_user, admin)
    assert admin.post(f"/team/members/{rec.id}/role", {"role": "admin"}, page="/team").status_code == 303
    db.session.refresh(rec)
    assert rec.role == "admin"
    assert admin.post(f"/team/members/{rec.id}/role", {"role": "recruiter"}, page="/team").status_code == 303
    r = admin.post(f"/team/members/{admin.user.id}/role", {"role": "recruiter"}, page="/team")
    assert r.status_code == 422 and "at least one admin" in r.get_data(as_text=True)
    r = admin.post(f"/team/members/{rec.id}/role", {"role": "owner"}, page="/team")
    assert r.status_code == 422 and "Choose Admin or Recruiter" in r.get_data(as_text=True)
    db.session.refresh(admin.user)
    assert admin.user.role == "admin"


def test_deactivate_ends_sessions_and_tokens_keeps_history(app, logged_in, make_user, browser):
    admin = logged_in("admin")
    rec = _member(make_user, admin, email="leaver@example.com")
    browser.login(rec.email)
    assert browser.get("/campaigns/").status_code == 200
    _row, plain = issue_token(rec, "Laptop")
    api = app.test_client()
    assert api.get("/panel/api/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    campaign = Campaign(team_id=rec.team_id, owner_id=rec.id, name="Leaver's campaign", sync_as="none")
    db.session.add(campaign)
    db.session.commit()

    r = admin.post(f"/team/members/{rec.id}/deactivate", page="/team")
    assert r.status_code == 303
    # Their open session is over, their token refused, and they can't sign in again.
    assert browser.get("/campaigns/").status_code == 302
    assert user_for_token(plain) is None
    assert api.get("/panel/api/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 401
    r = browser.post("/login", {"email": rec.email, "password": "correct horse battery"})
    assert r.status_code == 422 and "deactivated" in r.get_data(as_text=True)
    # History stays; the campaign can be handed on.
    assert db.session.get(Campaign, campaign.id).owner_id == rec.id
    html = admin.get("/team").get_data(as_text=True)
    assert "Deactivated" in html and "Give their 1 campaign" in html
    assert admin.post(f"/team/members/{rec.id}/reassign", {"to": str(admin.user.id)}, page="/team").status_code == 303
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).owner_id == admin.user.id
    # Reactivated: may sign in again, the old token stays dead.
    assert admin.post(f"/team/members/{rec.id}/reactivate", page="/team").status_code == 303
    browser.login(rec.email)
    assert user_for_token(plain) is None


def test_last_admin_cannot_be_deactivated(logged_in, make_user):
    admin = logged_in("admin")
    other = _member(make_user, admin, role="admin")
    assert admin.post(f"/team/members/{other.id}/deactivate", page="/team").status_code == 303
    r = admin.post(f"/team/members/{admin.user.id}/deactivate", page="/team")
    assert r.status_code == 422 and "last admin" in r.get_data(as_text=True)
    db.session.refresh(admin.user)
    assert admin.user.deactivated_at is None


def test_another_teams_member_is_404_and_recruiter_403(logged_in, make_user):
    admin = logged_in("admin")
    stranger = make_user("recruiter")            # their own team
    _row, plain = issue_token(stranger, "theirs")
    token_id = db.session.scalars(select(ExtensionToken.id)).one()
    for path, data in ((f"/team/members/{stranger.id}/role", {"role": "admin"}),
                       (f"/team/members/{stranger.id}/deactivate", {}),
                       (f"/team/members/{stranger.id}/reactivate", {}),
                       (f"/team/members/{stranger.id}/reset-link", {}),
                       (f"/team/members/{stranger.id}/reassign", {"to": str(admin.user.id)}),
                       (f"/team/tokens/{token_id}/revoke", {})):
        assert admin.post(path, data, page="/team").status_code == 404, path
    db.session.refresh(stranger)
    assert stranger.role == "recruiter" and stranger.deactivated_at is None
    assert user_for_token(plain) is not None
    rec = logged_in("recruiter", team=admin.user.team)
    assert rec.get("/team").status_code == 403
    assert rec.post(f"/team/members/{admin.user.id}/deactivate", page="/campaigns/").status_code == 403
    assert rec.post(f"/team/tokens/{token_id}/revoke", page="/campaigns/").status_code == 403


def test_admin_revokes_any_token_of_the_team(logged_in, make_user):
    admin = logged_in("admin")
    rec = _member(make_user, admin)
    row, plain = issue_token(rec, "Rita's phone")
    assert admin.post(f"/team/tokens/{row.id}/revoke", page="/team").status_code == 303
    assert user_for_token(plain) is None
    assert admin.post(f"/team/tokens/{row.id}/revoke", page="/team").status_code == 404


def test_change_my_password_ends_other_sessions(app, logged_in):
    me = logged_in("recruiter")
    other = type(me)(app.test_client())
    other.login(me.user.email)
    r = me.post("/account/password", {"current": "wrong one", "password": "a brand new password",
                                      "confirm": "a brand new password"}, page="/account/")
    assert r.status_code == 422 and "not your current password" in r.get_data(as_text=True)
    r = me.post("/account/password", {"current": "correct horse battery", "password": "short",
                                      "confirm": "short"}, page="/account/")
    assert r.status_code == 422 and "at least 10" in r.get_data(as_text=True)
    r = me.post("/account/password", {"current": "correct horse battery", "password": "a brand new password",
                                      "confirm": "a brand new pasword"}, page="/account/")
    assert r.status_code == 422 and "don&#39;t match" in r.get_data(as_text=True)
    r = me.post("/account/password", {"current": "correct horse battery", "password": "a brand new password",
                                      "confirm": "a brand new password"}, page="/account/", htmx=True)
    assert r.status_code == 200 and "Password changed" in r.get_data(as_text=True)
    assert me.get("/account/").status_code == 200           # this session carries on
    assert other.get("/account/").status_code == 302        # the other one is over
    other.login(me.user.email, "a brand new password")


def test_reset_link_is_one_use_expiring_and_hashed(app, logged_in, make_user, browser):
    admin = logged_in("admin")
    rec = _member(make_user, admin, email="forgot@example.com")
    r = admin.post(f"/team/members/{rec.id}/reset-link", page="/team", htmx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html
    link = re.search(r'id="reset-link">([^<]+)<', html).group(1)
    token = link.rsplit("/", 1)[1]
    row = db.session.scalars(select(PasswordReset)).one()
    assert row.token_hash == sha256(token) and token not in html.replace(link, "")
    page = browser.get(f"/reset/{token}")
    assert page.status_code == 200 and "forgot@example.com" in page.get_data(as_text=True)
    r = browser.post(f"/reset/{token}", {"password": "short", "confirm": "short"}, page=f"/reset/{token}")
    assert r.status_code == 422
    r = browser.post(f"/reset/{token}", {"password": "my new long password", "confirm": "my new long password"},
                     page=f"/reset/{token}")
    assert r.status_code == 302 and browser.get("/campaigns/").status_code == 200
    assert browser.get(f"/reset/{token}").status_code == 404           # used
    fresh = type(browser)(app.test_client())
    fresh.login("forgot@example.com", "my new long password")
    # An expired link is dead too.
    r = admin.post(f"/team/members/{rec.id}/reset-link", page="/team")
    token2 = re.search(r'id="reset-link">[^<]+/reset/([^<]+)<', r.get_data(as_text=True)).group(1)
    newest = db.session.scalars(select(PasswordReset).order_by(PasswordReset.id.desc())).first()
    newest.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert browser.get(f"/reset/{token2}").status_code == 404


def test_a_new_reset_link_kills_the_older_one(logged_in, make_user, browser):
    admin = logged_in("admin")
    rec = _member(make_user, admin)
    first = re.search(r'/reset/([^<]+)<', admin.post(f"/team/members/{rec.id}/reset-link", page="/team")
                      .get_data(as_text=True)).group(1)
    admin.post(f"/team/members/{rec.id}/reset-link", page="/team")
    assert browser.get(f"/reset/{first}").status_code == 404
    assert db.session.get(Team, rec.team_id) is not None and db.session.get(User, rec.id).deactivated_at is None
