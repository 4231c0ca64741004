"""An RQ worker process for the chaos test: the app built from the test's config (same DB file,
same Redis), and RQ's SimpleWorker with its scheduler on the app's queues.

SimpleWorker runs jobs in this process instead of forking a work horse per job, which keeps a
thousand-push run within minutes on two cores; the code path of each job is the same as under
`flask worker`. Usage: python tests/chaos/chaos_worker.py '<json config>' <instance path>"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from rq import SimpleWorker

from app import create_app
from extensions import get_redis
from jobs import get_queue


def main() -> None:
    app = create_app(json.loads(sys.argv[1]), instance_path=sys.argv[2])
    with app.app_context():
        queues = [get_queue(name) for name in app.config["RQ_QUEUES"]]
        SimpleWorker(queues, connection=get_redis()).work(with_scheduler=True, logging_level=logging.WARNING)


if __name__ == "__main__":
    main()
