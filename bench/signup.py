"""Sign-up's answer time for an address with an account and one without, in one run: they must be
alike, or the time would tell what the page doesn't (issue #10). `.venv/bin/python bench/signup.py`
(`--rounds 40`). The real app (Flask test client, a SQLite file, the embedded Redis), CSRF off, a
mail server set but no worker running: the request does all its work (validate, hash, keep the
request, queue the email) and the email goes later. The rounds alternate known and unknown addresses;
printed: the median and p90 of each in ms, and `ratio` = known median / unknown median (1.0 is the
target: the web request does the same work for both). The last line is one JSON object."""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    from werkzeug.security import generate_password_hash

    from app import create_app
    from core import db, stop_embedded_redis
    from models import Team, User

    instance = tempfile.mkdtemp(prefix="shoal-bench-signup-")
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(instance) / 'bench.db'}",
                      "SYSTEM_MAIL_URL": "smtp://127.0.0.1:2525?security=none"}, instance_path=instance)
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    try:
        with app.app_context():
            db.create_all()
            team = Team(name="Acme")
            db.session.add(team)
            db.session.flush()
            db.session.add(User(team_id=team.id, email="ada@acme.test", name="Ada", role="admin",
                                password_hash=generate_password_hash("correct horse battery")))
            db.session.commit()
        client = app.test_client()
        form = {"team_name": "Northwind", "name": "Nora", "password": "a long enough password"}
        for n in range(args.rounds * 2 + 2):
            kind = "known" if n % 2 else "unknown"
            email = "ada@acme.test" if kind == "known" else f"new{n}@northwind.test"
            start = time.perf_counter()
            status = client.post("/signup", data={**form, "email": email},
                                 environ_base={"REMOTE_ADDR": f"198.51.{n // 250}.{n % 250 + 1}"}).status_code
            elapsed = (time.perf_counter() - start) * 1000
            assert status == 200, status
            if n >= 2:   # the first of each warms up
                times[kind].append(elapsed)
    finally:
        stop_embedded_redis(app)
    out = {k: {"median_ms": round(statistics.median(v), 1),
               "p90_ms": round(sorted(v)[int(len(v) * 0.9) - 1], 1)} for k, v in times.items()}
    out["ratio"] = round(out["known"]["median_ms"] / out["unknown"]["median_ms"], 2)
    for kind in ("known", "unknown"):
        print(f"{kind:8s} median {out[kind]['median_ms']:7.1f} ms   p90 {out[kind]['p90_ms']:7.1f} ms")
    print(f"ratio (known / unknown median): {out['ratio']}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
