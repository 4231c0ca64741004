"""The Account page's extension tokens, and the token service the panel authenticates with."""
from __future__ import annotations

import re

from sqlalchemy import select

from core import db
from models import ExtensionToken
from services.tokens import issue_token, token_hash, user_for_token


def test_create_token_is_shown_once_and_stored_hashed(logged_in):
    b = logged_in("recruiter")
    r = b.post("/account/tokens", {"label": "Work laptop"}, page="/account/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "shown only this once" in html
    plain = re.search(r'value="(shoal_[^"]+)"', html).group(1)
    row = db.session.scalars(select(ExtensionToken)).one()
    assert row.label == "Work laptop" and row.user_id == b.user.id
    assert row.token_hash == token_hash(plain) and plain not in row.token_hash
    # Listed afterwards, but never shown again.
    page = b.get("/account/").get_data(as_text=True)
    assert "Work laptop" in page and plain not in page and "never" in page
    assert user_for_token(plain).id == b.user.id


def test_token_use_is_stamped_and_revoke_kills_it(logged_in):
    b = logged_in("recruiter")
    row, plain = issue_token(b.user, "Desk PC")
    assert row.last_used_at is None
    assert user_for_token(plain) is not None
    db.session.refresh(row)
    assert row.last_used_at is not None
    r = b.post(f"/account/tokens/{row.id}/revoke", page="/account/")
    assert r.status_code == 303
    assert user_for_token(plain) is None
    assert "Desk PC" not in b.get("/account/").get_data(as_text=True)


def test_cannot_revoke_someone_elses_token(logged_in, make_user):
    b = logged_in("admin")
    colleague = make_user("recruiter", team=b.user.team)
    row, plain = issue_token(colleague)
    assert b.post(f"/account/tokens/{row.id}/revoke", page="/account/").status_code == 404
    assert user_for_token(plain).id == colleague.id


def test_unknown_or_junk_tokens_are_nobody(app):
    assert user_for_token("") is None and user_for_token(None) is None
    assert user_for_token("shoal_nope") is None and user_for_token("x" * 5000) is None


def test_profile_name_and_bad_label(logged_in):
    b = logged_in("recruiter")
    assert b.post("/account/profile", {"name": "Renamed Person"}, page="/account/").status_code == 303
    assert "Renamed Person" in b.get("/account/").get_data(as_text=True)
    assert b.post("/account/profile", {"name": "  "}, page="/account/").status_code == 422
    assert b.post("/account/tokens", {"label": "x" * 101}, page="/account/").status_code == 422
    assert db.session.scalars(select(ExtensionToken)).first() is None


def test_revoke_asks_for_confirmation_and_a_revoked_token_is_reported_as_revoked(logged_in):
    """What a new user tripped on: Revoke without confirmation, and a revoked token reported as unknown."""
    b = logged_in("recruiter")
    row, plain = issue_token(b.user, "Laptop")
    html = b.get("/account/").get_data(as_text=True)
    form = html.split(f'action="/account/tokens/{row.id}/revoke"')[1].split(">")[0]
    assert "hx-confirm=" in form and "stops working at once" in form
    assert b.post(f"/account/tokens/{row.id}/revoke", page="/account/").status_code == 303
    r = b.client.get("/panel/api/me", headers={"Authorization": f"Bearer {plain}"})
    body = r.get_data(as_text=True)
    assert r.status_code == 401 and "was revoked on" in body and "Laptop" in body
    r = b.client.get("/panel/api/me", headers={"Authorization": "Bearer never-issued"})
    assert r.status_code == 401 and "revoked" not in r.get_data(as_text=True)
