"""A worker for the chaos test: the app built from the test's config (same DB file, same Redis),
run the way `flask worker` runs it (jobs/worker.py): a supervisor (jobs.processes.Supervisor) and
PROCESSES worker processes, each RQ's SimpleWorker (`jobs.worker.build_worker`) with RQ's scheduler.

So the chaos run also checks that intents run side by side by several processes (one person's two
intents, retries landing while others run, a SIGKILL of the whole group with several jobs in
flight) still end synced exactly once.
Usage: python tests/chaos/chaos_worker.py '<json config>' <instance path> [--one]"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from config import Config
from jobs.processes import Supervisor

PROCESSES = Config.WORKER_PROCESSES   # what `flask worker` runs by default


def main() -> None:
    config, instance = sys.argv[1], sys.argv[2]
    if "--one" not in sys.argv:
        sys.exit(Supervisor([sys.executable, __file__, config, instance, "--one"], PROCESSES).run())
    from app import create_app
    from jobs.worker import build_worker

    app = create_app(json.loads(config), instance_path=instance)
    with app.app_context():
        build_worker(app).work(with_scheduler=True, logging_level=logging.WARNING)


if __name__ == "__main__":
    main()
