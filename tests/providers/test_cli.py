"""`flask crm` as an operator runs it: a real subprocess against a sandbox on a loopback socket."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from providers.base import Capability
from tests.providers.conftest import PROVIDER_KEYS, person_fields

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))


def flask_crm(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # `flask crm` needs no Redis: a never-contacted URL spares starting an embedded server per run.
    # Log lines (stderr under `flask crm`) only from WARNING: these tests read the command's own words.
    env = dict(os.environ, PYTHONPATH=str(ROOT), REDIS_URL="redis://127.0.0.1:1/0", SHOAL_LOG_LEVEL="WARNING")
    env.pop("DATABASE_URL", None)
    # A throwaway instance folder, so the command never touches the developer's database/redis.
    app_spec = f'app:create_app(instance_path="{tmp_path / "instance"}")'
    return subprocess.run([FLASK, "--app", app_spec, "crm", *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=120)


def crm_args(crm: Any, credentials: dict[str, Any] | None = None) -> list[str]:
    return ["--provider", crm.key, "--base-url", crm.base_url,
            "--credentials", json.dumps(crm.credentials if credentials is None else credentials)]


@pytest.mark.parametrize("key", PROVIDER_KEYS)
def test_push_creates_then_matches(make_crm, unique: str, tmp_path: Path, key: str) -> None:
    crm = make_crm(key)
    adapter = crm.adapter()
    rt = adapter.record_types[0].key
    keys = {f.key for f in adapter.list_fields(rt)} if adapter.supports(Capability.FIELDS) else set()
    person = {k: v for k, v in person_fields(unique).items() if not keys or k in keys}
    person_file = tmp_path / "ada.json"
    person_file.write_text(json.dumps(person))
    creds_file = tmp_path / "creds.json"
    creds_file.write_text(json.dumps(crm.credentials))

    first = flask_crm(tmp_path, "push", "--provider", key, "--base-url", crm.base_url,
                      "--credentials", f"@{creds_file}", "--record-type", rt, "--person", str(person_file))
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert out["created"] is True and out["matched"] is False and out["remote_id"]
    assert out["fields_written"] == person

    again = flask_crm(tmp_path, "push", *crm_args(crm), "--person", str(person_file))
    assert again.returncode == 0, again.stderr
    out2 = json.loads(again.stdout)
    assert out2 == {**out, "created": False, "matched": True, "fields_written": {}}

    found = flask_crm(tmp_path, "find", *crm_args(crm), "--email", person["email"].upper())
    assert found.returncode == 0 and json.loads(found.stdout)["remote_id"] == out["remote_id"]


@pytest.mark.parametrize("key", PROVIDER_KEYS)
def test_check_good_and_bad_credentials(make_crm, tmp_path: Path, key: str) -> None:
    crm = make_crm(key)
    ok = flask_crm(tmp_path, "check", *crm_args(crm))
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["provider"] == key

    wrong = {k: (f"wrong-{v}" if k in crm.cls.secret_fields() else v) for k, v in crm.credentials.items()}
    bad = flask_crm(tmp_path, "check", *crm_args(crm, wrong))
    assert bad.returncode == 1
    assert "AuthError" in bad.stderr and "Traceback" not in bad.stderr and not bad.stdout
    assert len(bad.stderr.strip().splitlines()) == 1


def test_failures_are_one_line_without_traceback(tmp_path: Path) -> None:
    missing = flask_crm(tmp_path, "find", "--provider", "pinpoint", "--credentials", '{"api_key": "k", "subdomain": "s"}',
                        "--email", "a@example.com", "--base-url", "http://127.0.0.1:1/api/v1")
    assert missing.returncode == 1 and "Unavailable" in missing.stderr and "Traceback" not in missing.stderr

    garbled = flask_crm(tmp_path, "check", "--provider", "cats", "--credentials", "{not json")
    assert garbled.returncode == 2 and "not valid JSON" in garbled.stderr and "Traceback" not in garbled.stderr

    person_file = tmp_path / "bad.json"
    person_file.write_text(json.dumps({"email": "a@example.com", "salary": "lots"}))
    unknown = flask_crm(tmp_path, "push", "--provider", "smartrecruiters", "--credentials", '{"api_key": "k"}',
                        "--person", str(person_file))
    assert unknown.returncode == 2 and "salary" in unknown.stderr and "Traceback" not in unknown.stderr
