"""Secrets that stay the operator's: production refuses the public SECRET_KEY and a missing
CREDENTIALS_KEY (instead of inventing a per-host key file), CREDENTIALS_KEY rotates (MultiFernet,
newest first) and `flask rotate-credentials-key` re-encrypts every encrypted column."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import LargeBinary, select

from app import create_app
from config import ConfigError
from core import db
from crypto import decrypt_credentials, encrypt_credentials
from models import Connection, Team
from services.key_rotation import ENCRYPTED_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
PG = "postgresql://shoal@db.invalid/shoal"   # never connected to: the check comes first


@pytest.fixture
def env(monkeypatch):
    for key in ("SECRET_KEY", "CREDENTIALS_KEY", "SHOAL_ENV", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def test_production_refuses_the_default_secret_key_and_a_missing_credentials_key(env, tmp_path):
    env.setenv("DATABASE_URL", PG)
    with pytest.raises(ConfigError) as err:
        create_app(instance_path=str(tmp_path))
    assert "SECRET_KEY" in str(err.value) and "CREDENTIALS_KEY" in str(err.value)
    assert not (tmp_path / "credentials.key").exists()   # no per-host key made up in production
    env.setenv("SECRET_KEY", "x" * 40)
    with pytest.raises(ConfigError, match="CREDENTIALS_KEY is not set"):
        create_app(instance_path=str(tmp_path))
    env.setenv("CREDENTIALS_KEY", Fernet.generate_key().decode())
    env.setenv("SECRET_KEY", "dev-only-not-secret")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(instance_path=str(tmp_path))
    env.setenv("SECRET_KEY", "x" * 40)
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_shoal_env_production_applies_on_sqlite_too(env, tmp_path):
    env.setenv("SHOAL_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"}, instance_path=str(tmp_path))
    env.delenv("SHOAL_ENV")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"}, instance_path=str(tmp_path))
    assert (tmp_path / "credentials.key").exists() and app.config["SESSION_COOKIE_SECURE"] is False


def test_a_malformed_credentials_key_is_named(env, tmp_path):
    env.setenv("CREDENTIALS_KEY", f"{Fernet.generate_key().decode()}, not-a-key")
    with pytest.raises(ValueError, match="key 2 is not a Fernet key"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"}, instance_path=str(tmp_path))


def test_the_cli_says_why_it_refuses(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "CREDENTIALS_KEY")}
    env.update(SHOAL_ENV="production", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    r = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "routes"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "Shoal refuses to start in production" in r.stderr and "CREDENTIALS_KEY is not set" in r.stderr


def test_every_encrypted_column_is_rotated():
    columns = {(t.name, c.name) for t in db.metadata.tables.values() for c in t.columns
               if isinstance(c.type, LargeBinary) and c.name.endswith("_encrypted")}
    listed = {(m.__tablename__, name) for m, name in ENCRYPTED_COLUMNS}
    assert columns - listed == set(), "add these to services/key_rotation.py ENCRYPTED_COLUMNS"


def test_rotation_reencrypts_every_row_with_the_newest_key(app):
    old, new, lost = (Fernet.generate_key().decode() for _ in range(3))
    saved = app.config["CREDENTIALS_KEY"]
    try:
        app.config["CREDENTIALS_KEY"] = old
        team = Team(name="Acme", inbound_secret_encrypted=encrypt_credentials({"secret": "inbound-s3cret"}))
        db.session.add(team)
        db.session.flush()
        conns = [Connection(team_id=team.id, provider_key="cats", base_url="https://x.test", active=i == 0,
                            credentials_encrypted=encrypt_credentials({"api_key": f"key-{i}"})) for i in range(3)]
        db.session.add_all(conns)
        db.session.commit()
        app.config["CREDENTIALS_KEY"] = f"{new},{old}"     # a new key in front; the old one still reads
        assert decrypt_credentials(conns[0].credentials_encrypted) == {"api_key": "key-0"}
        result = app.test_cli_runner().invoke(args=["rotate-credentials-key"])
        assert result.exit_code == 0, result.output
        assert "connection.credentials_encrypted: 3 re-encrypted" in result.output
        assert "team.inbound_secret_encrypted: 1 re-encrypted" in result.output
        assert "mailbox.password_encrypted: 0 re-encrypted" in result.output
        app.config["CREDENTIALS_KEY"] = new                 # the old key is gone: everything still reads
        db.session.expire_all()
        blobs = db.session.scalars(select(Connection.credentials_encrypted).order_by(Connection.id)).all()
        assert [decrypt_credentials(b) for b in blobs] == [{"api_key": f"key-{i}"} for i in range(3)]
        assert decrypt_credentials(db.session.get(Team, team.id).inbound_secret_encrypted) == {
            "secret": "inbound-s3cret"}
        # A value no configured key opens is reported and left alone, and the command fails.
        app.config["CREDENTIALS_KEY"] = lost
        db.session.add(Connection(team_id=team.id, provider_key="cats", base_url="https://x.test",
                                  active=False, credentials_encrypted=encrypt_credentials({"api_key": "?"})))
        db.session.commit()
        app.config["CREDENTIALS_KEY"] = new
        result = app.test_cli_runner().invoke(args=["rotate-credentials-key"])
        assert result.exit_code != 0 and "1 value(s) no key in CREDENTIALS_KEY opens" in result.output
    finally:
        app.config["CREDENTIALS_KEY"] = saved
