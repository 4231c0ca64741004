"""`flask crm`: run one adapter once, synchronously, against any server, and print JSON.

    flask --app app crm check --provider cats --base-url http://127.0.0.1:5001/v3 --credentials '{"api_key": "..."}'
    flask --app app crm find  --provider smartrecruiters --credentials @sr.json --email ada@example.com
    flask --app app crm push  --provider pinpoint --credentials @pp.json --person ada.json [--job-id 12]

`push` looks the person up first (email, then LinkedIn URL) and creates the record only if none is
found; it prints the remote id, whether it was created or matched, and the fields it wrote.
Every failure is one line on stderr and a non-zero exit (1 = the CRM said no, 2 = bad input).
No database, queue or settings are involved: this is for checking an adapter against a server.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from marshmallow import ValidationError

import logs
from providers import get_provider
from providers.base import Capability, Provider
from providers.errors import ProviderError, RateLimited
from providers.types import STANDARD_FIELDS

MAX_INPUT_BYTES = 1_000_000


def _read_json(value: str, what: str) -> Any:
    """A JSON literal, or `@path` to a JSON file."""
    text = value
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            if path.stat().st_size > MAX_INPUT_BYTES:
                raise click.UsageError(f"{what} file {path} is too large")
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise click.UsageError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise click.UsageError(f"{what} is not valid JSON: {exc}") from None


def _adapter(provider_key: str, base_url: str | None, credentials: str) -> Provider:
    try:
        cls = get_provider(provider_key)
    except ProviderError as exc:
        raise click.UsageError(exc.message) from None
    creds = _read_json(credentials, "--credentials")
    if not isinstance(creds, dict):
        raise click.UsageError("--credentials must be a JSON object")
    try:
        cls.credentials_schema().load(creds)
    except ValidationError as exc:
        problems = "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                             for k, v in exc.messages.items())
        raise click.UsageError(f"bad credentials for {cls.display_name}: {problems}") from None
    url = base_url or cls.base_url_for(creds)
    # The operator names the server on the command line: its host:port is allowed for this run
    # (every call still goes through the guarded HTTP layer, which follows no redirect).
    try:
        return cls(url, creds, allowlist=_host_entry(urlsplit(url)) if base_url else None)
    except ProviderError as exc:
        raise click.UsageError(f"--base-url: {exc.message}") from None


def _host_entry(parts: Any) -> str:
    """host:port of an explicit --base-url (nothing for an unparsable one: the adapter refuses it)."""
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        return ""
    if not host:
        return ""
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host


def _record_type(adapter: Provider, record_type: str | None) -> str:
    if record_type is None:
        return adapter.record_types[0].key
    keys = [rt.key for rt in adapter.record_types]
    if record_type not in keys:
        raise click.UsageError(f"{adapter.display_name} record types are: {', '.join(keys)}")
    return record_type


def _person(path: str) -> dict[str, Any]:
    person = _read_json(path if path.startswith("@") else "@" + path, "--person")
    if not isinstance(person, dict):
        raise click.UsageError("--person must hold a JSON object")
    unknown = sorted(set(person) - set(STANDARD_FIELDS))
    if unknown:
        raise click.UsageError(f"--person has unknown fields {', '.join(unknown)} "
                               f"(allowed: {', '.join(STANDARD_FIELDS)})")
    bad = [k for k, v in person.items() if v is not None and not isinstance(v, str)]
    if bad:
        raise click.UsageError(f"--person fields must be strings: {', '.join(bad)}")
    if not (person.get("email") or person.get("linkedin_url")):
        raise click.UsageError("--person needs an email or a linkedin_url to look the person up")
    return {k: v.strip() for k, v in person.items() if isinstance(v, str) and v.strip()}


def _emit(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, default=str))


def _run(fn: Any) -> None:
    """Run one adapter call; turn every failure into one line and an exit code, never a traceback."""
    try:
        _emit(fn())
    except click.ClickException:
        raise
    except RateLimited as exc:
        raise click.ClickException(f"RateLimited: {exc.message} (retry after {exc.retry_after:g}s)") from None
    except ProviderError as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc.message or 'no details'}") from None
    except Exception as exc:   # an adapter bug must still not print a traceback to an operator
        raise click.ClickException(f"unexpected {type(exc).__name__}: {exc}") from None


def _common(fn: Any) -> Any:
    fn = click.option("--credentials", required=True, help="JSON object, or @file.json")(fn)
    fn = click.option("--base-url", default=None, help="API root (default: the vendor's)")(fn)
    fn = click.option("--provider", "provider_key", required=True, help="provider key, e.g. cats")(fn)
    return fn


@click.group("crm")
def crm_command() -> None:
    """Run one CRM adapter once against any server (the real CRM or a sandbox)."""
    logs.to_stderr()   # stdout is the answer, JSON a script may read; the log lines go beside it


@crm_command.command("check")
@_common
def check(provider_key: str, base_url: str | None, credentials: str) -> None:
    """Check the credentials; print the account info."""
    adapter = _adapter(provider_key, base_url, credentials)
    _run(lambda: {"provider": adapter.key, "base_url": adapter.base_url,
                  "account": dataclasses.asdict(adapter.check_connection())})


@crm_command.command("find")
@_common
@click.option("--record-type", default=None)
@click.option("--email", default=None)
@click.option("--linkedin-url", default=None)
def find(provider_key: str, base_url: str | None, credentials: str, record_type: str | None,
         email: str | None, linkedin_url: str | None) -> None:
    """Look a person up by email and/or LinkedIn URL; print the record or null."""
    if not (email or linkedin_url):
        raise click.UsageError("give --email and/or --linkedin-url")
    adapter = _adapter(provider_key, base_url, credentials)
    rt = _record_type(adapter, record_type)

    def go() -> Any:
        rec = adapter.find_person(rt, email=email, linkedin_url=linkedin_url)
        return dataclasses.asdict(rec) if rec else None
    _run(go)


@crm_command.command("push")
@_common
@click.option("--record-type", default=None)
@click.option("--person", "person_file", required=True, help="JSON file with our person fields")
@click.option("--job-id", default=None, help="also put the record on this job (if the CRM has jobs)")
def push(provider_key: str, base_url: str | None, credentials: str, record_type: str | None,
         person_file: str, job_id: str | None) -> None:
    """Find the person (email, then LinkedIn URL); create them only if not found."""
    adapter = _adapter(provider_key, base_url, credentials)
    rt = _record_type(adapter, record_type)
    person = _person(person_file)
    if job_id and not adapter.supports(Capability.JOBS):
        raise click.UsageError(f"{adapter.display_name} has no jobs; drop --job-id")

    def go() -> Any:
        rec = None
        if person.get("email"):
            rec = adapter.find_person(rt, email=person["email"])
        if rec is None and person.get("linkedin_url"):
            rec = adapter.find_person(rt, linkedin_url=person["linkedin_url"])
        created = rec is None
        written: dict[str, Any] = {}
        if rec is None:
            rec = adapter.create(rt, person)
            written = person
        out: dict[str, Any] = {"remote_id": rec.remote_id, "record_type": rt, "created": created,
                               "matched": not created, "fields_written": written}
        if job_id:
            out["job_pipeline_id"] = adapter.add_to_job(rt, rec.remote_id, job_id)
        return out
    _run(go)
