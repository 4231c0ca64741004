"""`flask sandbox`: serve CRM simulators on 127.0.0.1 until Ctrl-C.

    flask --app app sandbox --provider cats --port 5103 [--api-key K]
    flask --app app sandbox --all --port 5101

`--all` serves every sandbox in one process (one thread each) on consecutive ports in the order of
the keys the command is built with (`make_sandbox_command(keys)`; the app passes the provider
registry's PROVIDER_KEYS, so 5101 = tracker … 5105 = pinpoint). This package never imports
`providers` (each simulator is written from the API facts alone), so the list comes in from outside. For each it prints the base URL to give a client (server root + the module's
API_ROOT) and the credentials it accepts. Modules are imported by key (`sandbox.<key>`), each
exposing `create_app(api_key=None, **options)`, `DEFAULT_CREDENTIALS` and `API_ROOT`.
"""
from __future__ import annotations

import importlib
import json
import signal
import socket
import time
from types import ModuleType

import click

from sandbox.common import ServerThread

# Which DEFAULT_CREDENTIALS entry `--api-key` replaces, for CRMs whose secret isn't called api_key
# (each module's create_app takes that secret as `api_key`).
SECRET_FIELD = {"tracker": "bearer_token", "itris": "password"}


def load(key: str) -> ModuleType:
    try:
        module = importlib.import_module(f"sandbox.{key}")
    except ImportError as exc:
        raise click.ClickException(f"sandbox {key!r} is not available: {exc}")
    if not hasattr(module, "create_app") or not hasattr(module, "DEFAULT_CREDENTIALS"):
        raise click.ClickException(f"sandbox {key!r} lacks create_app/DEFAULT_CREDENTIALS")
    return module


def credentials(key: str, module: ModuleType, api_key: str | None) -> dict[str, str]:
    creds = dict(module.DEFAULT_CREDENTIALS)
    if api_key:
        creds[SECRET_FIELD.get(key, "api_key")] = api_key
    return creds


def start(key: str, port: int, api_key: str | None) -> tuple[ServerThread, list[str]]:
    """Serve one sandbox on `port`; return its server thread and the lines describing it."""
    module = load(key)
    # werkzeug exits the process on a busy port; probe first so the error names the sandbox.
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise click.ClickException(f"cannot serve {key} on 127.0.0.1:{port}: {exc.strerror or exc}")
    server = ServerThread(module.create_app(api_key=api_key), port)
    server.start()
    lines = [f"{key:<16} base URL {server.base}{getattr(module, 'API_ROOT', '')}",
             f"{'':<16} credentials {json.dumps(credentials(key, module, api_key))}"]
    oauth = getattr(module, "OAUTH_CLIENT", None)
    if oauth:
        lines.append(f"{'':<16} oauth client {json.dumps(oauth)}; authorize "
                     f"{server.base}/identity/oauth/allow, token {server.base}/identity/oauth/token")
    lines.append(f"{'':<16} admin {server.base}/__sandbox/state")
    return server, lines


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def make_sandbox_command(keys: tuple[str, ...]) -> click.Command:
    """`flask sandbox` over these sandbox keys (in `--all`'s port order)."""
    @click.command("sandbox")
    @click.option("--provider", "provider", type=click.Choice(keys), help="Serve this one CRM sandbox.")
    @click.option("--all", "serve_all", is_flag=True, help="Serve every CRM sandbox on consecutive ports from --port.")
    @click.option("--port", type=click.IntRange(1, 65535), default=5101, show_default=True,
                  help="Port (first port with --all).")
    @click.option("--api-key", "api_key", default=None, help="Secret to accept instead of the sandbox default.")
    def sandbox_command(provider: str | None, serve_all: bool, port: int, api_key: str | None) -> None:
        """Serve CRM sandboxes on 127.0.0.1 until Ctrl-C (--all: in the registry's order)."""
        if bool(provider) == serve_all:
            raise click.UsageError("give exactly one of --provider KEY or --all")
        selected = keys if serve_all else (provider,)
        if port + len(selected) - 1 > 65535:
            raise click.UsageError("not enough ports above --port")
        servers: list[ServerThread] = []
        # A process manager (honcho, systemd) stops us with SIGTERM: treat it like Ctrl-C.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            for offset, key in enumerate(selected):
                server, lines = start(key, port + offset, api_key)
                servers.append(server)
                click.echo("\n".join(lines))
            click.echo("Serving; press Ctrl-C to stop.")
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            click.echo("Stopping.")
        finally:
            for server in servers:
                server.stop()

    return sandbox_command
