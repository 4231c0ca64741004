"""The Alembic migrations build exactly the schema the models describe."""
from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine

from app import create_app
from core import db


def test_upgrade_from_empty_matches_models(tmp_path):
    if os.environ.get("DATABASE_URL"):
        pytest.skip("runs on a throwaway SQLite file; the PostgreSQL run checks the same migrations via create_all parity")
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True}, instance_path=str(tmp_path))
    with app.app_context():
        upgrade()
        engine = create_engine(url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
