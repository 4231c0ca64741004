"""/healthz answers while the process is up; /readyz only while the database and Redis answer."""
from __future__ import annotations

from app import create_app


def test_healthz_and_readyz(app):
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_is_503_naming_what_is_down(tmp_path):
    down = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/no/such/dir/x.db", "TESTING": True,
                       "REDIS_URL": "redis://127.0.0.1:1/0"}, instance_path=str(tmp_path))
    client = down.test_client()
    assert client.get("/healthz").status_code == 200
    r = client.get("/readyz")
    checks = r.get_json()["checks"]
    assert r.status_code == 503 and checks["database"].startswith("unreachable")
    assert checks["redis"].startswith("unreachable")
