"""Removing the app's OAuth client from teams' stored credentials (issue #10, part 2).

SmartRecruiters connections made before the fix stored the app's client id and secret, and an
`auth_base_url`, in each team's encrypted credentials; a team admin could point that URL anywhere
and the refresh job would POST the secret there. The adapter now reads all three from the app's
config at each use and ignores stored ones; this strips them from the rows too, so no copy of the
secret is left in a team's data.

Run by the migration that introduced it (which has the app's config, so CREDENTIALS_KEY), and as
`flask --app app strip-oauth-clients` for a database migrated where the key wasn't set (the
migration then prints that it skipped). Idempotent: a row without those keys isn't rewritten.
"""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import Connection as DbConnection, column, select, table, update

from core import db
from crypto import CredentialsKeyMissing, decrypt_credentials, encrypt_credentials

STRIPPED_KEYS = ("client_id", "client_secret", "auth_base_url")
OAUTH_PROVIDERS = ("smartrecruiters",)

# Core, not the model: the migration runs this against the schema of its own revision.
_connection = table("connection", column("id"), column("provider_key"), column("credentials_encrypted"))


def strip_oauth_clients(bind: DbConnection) -> tuple[int, int]:
    """Rewrite every affected row without the app's OAuth client. Returns (stripped, unreadable):
    rows the key can't decrypt are left alone (and counted). Raises CredentialsKeyMissing when
    no key is configured at all. The caller commits."""
    rows = bind.execute(select(_connection.c.id, _connection.c.credentials_encrypted).where(
        _connection.c.provider_key.in_(OAUTH_PROVIDERS), _connection.c.credentials_encrypted.is_not(None))).all()
    if not current_app.config.get("CREDENTIALS_KEY"):
        raise CredentialsKeyMissing("CREDENTIALS_KEY is not set")
    stripped = unreadable = 0
    for row_id, blob in rows:
        try:
            creds = decrypt_credentials(blob)
        except CredentialsKeyMissing:   # encrypted with another key: not ours to guess
            unreadable += 1
            continue
        if not any(k in creds for k in STRIPPED_KEYS):
            continue
        kept = {k: v for k, v in creds.items() if k not in STRIPPED_KEYS}
        bind.execute(update(_connection).where(_connection.c.id == row_id)
                     .values(credentials_encrypted=encrypt_credentials(kept)))
        stripped += 1
    return stripped, unreadable


@click.command("strip-oauth-clients")
@with_appcontext
def strip_oauth_clients_command() -> None:
    """Remove the app's OAuth client id/secret/host from teams' stored CRM credentials."""
    try:
        stripped, unreadable = strip_oauth_clients(db.session.connection())
    except CredentialsKeyMissing:
        raise click.ClickException("CREDENTIALS_KEY is not set: nothing can be decrypted") from None
    db.session.commit()
    click.echo(f"Stripped the OAuth client from {stripped} connection(s).")
    if unreadable:
        click.echo(f"{unreadable} connection(s) could not be decrypted with CREDENTIALS_KEY and were left as they are.")
