"""`flask` commands, each defined next to what it runs:

- `flask worker` / `flask sweep`   jobs/worker.py     (RQ worker with the app context; outbox sweeper)
- `flask sandbox`                  sandbox/cli.py     (serve one CRM simulator, or all of them)
- `flask crm`                      providers/cli.py   (run one adapter once against any server)
- `flask seed-demo`                services/demo.py   (demo team connected to the CATS sandbox)
"""
from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    from jobs.worker import sweep_command, worker_command
    from providers.cli import crm_command
    from sandbox.cli import sandbox_command
    from services.demo import seed_demo_command

    for command in (worker_command, sweep_command, sandbox_command, crm_command, seed_demo_command):
        app.cli.add_command(command)
