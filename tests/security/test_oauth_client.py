"""The app's OAuth client is config, never a team's data (issue #10, part 2): SmartRecruiters rows
saved before the fix held the client id, secret and an identity host; the migration strips them
with the app's CREDENTIALS_KEY, and `flask strip-oauth-clients` does it for a database migrated
without the key. Other CRMs' rows are left as they are."""
from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from core import db
from crypto import decrypt_credentials, encrypt_credentials

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / \
    "ssrf0a1b2c3d_connection_outage_strip_oauth_client.py"
LEGACY = {"access_token": "a", "refresh_token": "r", "expires_at": 1.0, "client_id": "app-client",
          "client_secret": "app-secret", "auth_base_url": "http://169.254.169.254/"}


def _previous_revision() -> str:
    return re.search(r"^down_revision = '([^']+)'", MIGRATION.read_text(), re.M).group(1)


def _insert(provider_key: str, creds: dict) -> int:
    db.session.execute(text(
        "INSERT INTO connection (provider_key, base_url, credentials_encrypted, status, active, created_at, team_id) "
        "VALUES (:k, 'https://api.example/', :c, 'connected', 1, :t, 1)"),
        {"k": provider_key, "c": encrypt_credentials(creds), "t": datetime(2026, 1, 1)})
    db.session.commit()
    return db.session.execute(text("SELECT max(id) FROM connection")).scalar()


def _creds(row_id: int) -> dict:
    blob = db.session.execute(text("SELECT credentials_encrypted FROM connection WHERE id = :i"), {"i": row_id}).scalar()
    return decrypt_credentials(blob)


@pytest.fixture
def fresh_app(tmp_path):
    if os.environ.get("DATABASE_URL"):
        pytest.skip("migrates a throwaway SQLite file")
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.db'}", "TESTING": True,
                       "CREDENTIALS_KEY": Fernet.generate_key().decode()}, instance_path=str(tmp_path))


def test_the_migration_strips_the_apps_oauth_client_from_stored_rows(fresh_app):
    with fresh_app.app_context():
        upgrade(revision=_previous_revision())
        sr = _insert("smartrecruiters", LEGACY)
        cats = _insert("cats", {"api_key": "k", "client_secret": "not ours to touch"})
        upgrade()
        assert _creds(sr) == {"access_token": "a", "refresh_token": "r", "expires_at": 1.0}
        assert _creds(cats) == {"api_key": "k", "client_secret": "not ours to touch"}
        db.session.remove()


def test_the_command_strips_rows_the_migration_could_not(fresh_app):
    with fresh_app.app_context():
        upgrade()
        sr = _insert("smartrecruiters", LEGACY)
        result = fresh_app.test_cli_runner().invoke(args=["strip-oauth-clients"])
        assert result.exit_code == 0 and "from 1 connection" in result.output
        assert set(_creds(sr)) == {"access_token", "refresh_token", "expires_at"}
        again = fresh_app.test_cli_runner().invoke(args=["strip-oauth-clients"])   # idempotent
        assert again.exit_code == 0 and "from 0 connection" in again.output
        db.session.remove()
