"""An RQ worker process for the chaos test: the app built from the test's config (same DB file,
same Redis), and `jobs.threaded.ThreadedWorker` with RQ's scheduler on the app's queues.

This is the code path `flask worker` runs (jobs/worker.py): one process, up to `THREADS` jobs at
once, each on a thread with its own app context. So the chaos run also checks that intents of
one worker running side by side (one person's two intents, retries landing while others run, a
SIGKILL with several jobs in flight) still end synced exactly once.
Usage: python tests/chaos/chaos_worker.py '<json config>' <instance path>"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app import create_app
from core import get_redis
from jobs import SERIALIZER, get_queue
from jobs.threaded import ThreadedWorker

THREADS = 4   # WORKER_THREADS' default, what `flask worker` runs


def main() -> None:
    app = create_app(json.loads(sys.argv[1]), instance_path=sys.argv[2])
    with app.app_context():
        queues = [get_queue(name) for name in app.config["RQ_QUEUES"]]
        ThreadedWorker(queues, connection=get_redis(), app=app, threads=THREADS, serializer=SERIALIZER).work(
            with_scheduler=True, logging_level=logging.WARNING)


if __name__ == "__main__":
    main()
