"""Bulk add benchmark, measured in one run. `.venv/bin/python bench/bulk.py [--rows N]`

A 10,000-row CSV goes through the real web routes (test client: upload, column mapping and the
validation report, "Add N people"), then the bulk-add job runs in one RQ burst worker on the
interactive queue, writing every person, enrolment, "added" event and sync intent and enqueuing one
push job per intent. No worker drains the sync queue: the figure is the time to *enqueue* the rows,
not to push them into a CRM (bench/sync.py measures that).

Printed: upload_s (upload and parse), check_s (mapping + per-row report), enqueue_s (the job, from
"Add" to the last push job in Redis; target < 5 s) and enqueue_cpu_s (this process's CPU in that
time: the rest is waiting for SQLite and Redis, or for a CPU on a busy machine, hence load_avg_1m),
rows_per_s, and checks that every row became an enrolment and a queued push job. The last line printed is one JSON object. Nothing asserts on time.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_ENQUEUE_S = 5.0


def make_csv(rows: int) -> bytes:
    out = io.StringIO()
    out.write("First name,Last name,Email,Job title,Company,LinkedIn\n")
    for i in range(rows):
        out.write(f"Ada{i},Lovelace{i},ada{i}@example.com,Engineer,Engines {i % 97},"
                  f"https://www.linkedin.com/in/ada-{i}\n")
    return out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()

    from rq import SimpleWorker
    from sqlalchemy import func, select
    from werkzeug.security import generate_password_hash

    from app import create_app
    from core import db, get_redis, stop_embedded_redis
    from crypto import encrypt_credentials
    from jobs import SERIALIZER, get_queue
    from models import BulkImport, Campaign, Connection, Enrolment, SyncIntent, Team, User

    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.db", "TESTING": True,
                          "WTF_CSRF_ENABLED": False}, instance_path=instance)
        try:
            with app.app_context():
                db.create_all()
                team = Team(name="Bench")
                db.session.add(team)
                db.session.flush()
                user = User(team_id=team.id, email="bench@example.com", role="admin", name="Bench",
                            password_hash=generate_password_hash("bench password"))
                db.session.add(user)
                db.session.flush()
                # An active connection, so every row gets a sync intent and a push job, as in production.
                db.session.add(Connection(team_id=team.id, provider_key="cats", base_url="http://127.0.0.1:9/v3",
                                          credentials_encrypted=encrypt_credentials({"api_key": "bench"}),
                                          status="connected", rate_limit_per_minute=0))
                campaign = Campaign(team_id=team.id, owner_id=user.id, name="Bench", sync_as="candidate")
                db.session.add(campaign)
                db.session.commit()
                cid = campaign.id
                data = make_csv(args.rows)

                client = app.test_client()
                client.post("/login", data={"email": "bench@example.com", "password": "bench password"})
                t0 = time.perf_counter()
                r = client.post(f"/campaigns/{cid}/import", data={"file": (io.BytesIO(data), "bench.csv")},
                                content_type="multipart/form-data")
                upload_s = time.perf_counter() - t0
                assert r.status_code == 303, r.get_data(as_text=True)[:500]
                url = r.headers["Location"]
                t0 = time.perf_counter()
                r = client.post(f"{url}/mapping", data={"map-first_name": "0", "map-last_name": "1", "map-email": "2",
                                                        "map-title": "3", "map-company": "4", "map-linkedin_url": "5"})
                check_s = time.perf_counter() - t0
                assert r.status_code == 200, r.get_data(as_text=True)[:500]
                t0, c0 = time.perf_counter(), time.process_time()
                r = client.post(f"{url}/start")
                assert r.status_code == 200
                worker = SimpleWorker([get_queue("interactive")], connection=get_redis(app), serializer=SERIALIZER)
                worker.work(burst=True, logging_level="WARNING")
                enqueue_s, enqueue_cpu_s = time.perf_counter() - t0, time.process_time() - c0

                bulk = db.session.scalars(select(BulkImport)).one()
                figures = {
                    "rows": args.rows, "upload_s": round(upload_s, 3), "check_s": round(check_s, 3),
                    "enqueue_s": round(enqueue_s, 3), "enqueue_cpu_s": round(enqueue_cpu_s, 3),
                    "load_avg_1m": round(os.getloadavg()[0], 2), "target_enqueue_s": TARGET_ENQUEUE_S,
                    "enqueue_vs_target": round(enqueue_s / TARGET_ENQUEUE_S, 3),
                    "rows_per_s": round(args.rows / enqueue_s) if enqueue_s else None,
                    "state": bulk.state, "done": bulk.done, "failed": bulk.failed, "skipped": bulk.skipped,
                    "enrolments": db.session.scalar(select(func.count()).select_from(Enrolment)),
                    "intents_queued": db.session.scalar(select(func.count()).select_from(SyncIntent)
                                                        .where(SyncIntent.state == "queued")),
                    "push_jobs_in_redis": get_queue("sync").count,
                }
        finally:
            stop_embedded_redis(app)
    for k, v in figures.items():
        print(f"{k:>20}: {v}")
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
