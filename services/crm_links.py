"""A CRM id, as Shoal shows it: "Candidate #42 in CATS", a link to that record in the CRM's web app
when one can be built (`Provider.record_url`), plain text when not. Used by every page that shows
an id (people, campaigns, the audit log and trail, sync health, CRM search, the side panel).

Nothing here calls a CRM: the address is built from the connection's stored credentials (its "Web
address", subdomain, region, API root). A connection's details are read and decrypted once per
request (kept in the request's environ), so a page of fifty rows costs one read per connection, not one per row."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from flask import has_request_context, request
from sqlalchemy import select

from core import db
from crypto import CredentialsKeyMissing, decrypt_credentials
from models import Connection, CrmLink, SyncIntent
from providers import get_provider
from providers.base import Provider
from providers.errors import NotSupported
from sync.ops import record_label


@dataclass(frozen=True)
class CrmRef:
    crm: str                 # the CRM's name ("CATS")
    record_label: str        # the record type in the CRM's words ("Candidate")
    remote_id: str
    url: str | None          # an http(s) address of the record's page, or None: show the text alone

    @property
    def shown_id(self) -> str:
        """The id as shown: a long one (SmartRecruiters' UUIDs) cut to its first 8 characters, which
        tell records apart on one page; the link's title keeps it whole."""
        rid = str(self.remote_id)
        return rid if len(rid) <= 12 else rid[:8] + "…"

    @property
    def text(self) -> str:
        return f"{self.record_label} #{self.shown_id} in {self.crm}"

    @property
    def full_text(self) -> str:
        return f"{self.record_label} #{self.remote_id} in {self.crm}"


@dataclass(frozen=True)
class _Conn:
    provider: type[Provider] | None
    name: str
    credentials: dict[str, Any]
    base_url: str


def _connection(team_id: int, connection_id: int | None) -> _Conn | None:
    if connection_id is None:
        return None
    cache: dict[tuple[int, int], _Conn | None] = {}
    if has_request_context():
        cache = request.environ.setdefault("shoal.crm_link_connections", {})
    key = (team_id, connection_id)
    if key not in cache:
        conn = db.session.scalars(select(Connection).where(
            Connection.team_id == team_id, Connection.id == connection_id)).first()
        cache[key] = None if conn is None else _load(conn)
    return cache[key]


def _load(conn: Connection) -> _Conn:
    try:
        provider: type[Provider] | None = get_provider(conn.provider_key)
    except NotSupported:   # a CRM no longer enabled on this server: its ids stay readable
        provider = None
    try:
        creds = decrypt_credentials(conn.credentials_encrypted) if conn.credentials_encrypted else {}
    except CredentialsKeyMissing:
        creds = {}
    name = provider.display_name if provider else conn.provider_key
    return _Conn(provider, name, creds, conn.base_url or "")


def crm_ref(team_id: int, connection_id: int | None, record_type: str | None, remote_id: Any) -> CrmRef | None:
    """The id `remote_id` of a `record_type` record on one of the team's connections (another
    team's connection: None, as for no id at all)."""
    rid = str(remote_id or "").strip()
    info = _connection(team_id, connection_id) if rid else None
    if info is None:
        return None
    rt = record_type or ""
    label = record_label(rt) or "Record"
    url = None
    if info.provider is not None:
        try:
            label = info.provider.record_type(rt).label
        except NotSupported:
            pass
        url = info.provider.record_url(info.credentials, rt, rid, base_url=info.base_url)
    return CrmRef(info.name, label, rid, url)


def ref_of(row: Any) -> CrmRef | None:
    """A row naming a CRM record (a CrmLink, an AuditEntry): team_id, connection_id, record_type, remote_id."""
    if row is None:
        return None
    return crm_ref(row.team_id, row.connection_id, row.record_type, row.remote_id)


def _links_cache() -> dict[tuple[int, int, int], list[CrmLink]] | None:
    return request.environ.setdefault("shoal.crm_links", {}) if has_request_context() else None


def prefetch(intents: Iterable[SyncIntent | None]) -> None:
    """Read the records of many intents' people in one query (a campaign's members), so each
    `intent_ref` while this request renders is answered without one."""
    cache, todo = _links_cache(), [i for i in intents if i is not None]
    if cache is None or not todo:
        return
    keys = {(i.team_id, i.connection_id, i.person_id) for i in todo}
    for key in keys:
        cache.setdefault(key, [])
    rows = db.session.scalars(select(CrmLink).where(
        CrmLink.team_id.in_({k[0] for k in keys}), CrmLink.connection_id.in_({k[1] for k in keys}),
        CrmLink.person_id.in_({k[2] for k in keys})).order_by(CrmLink.id)).all()
    for link in rows:
        if (link.team_id, link.connection_id, link.person_id) in keys:
            cache[(link.team_id, link.connection_id, link.person_id)].append(link)


def intent_ref(intent: SyncIntent) -> CrmRef | None:
    """The record an intent's person has on its connection (the one it synced, or would update)."""
    cache = _links_cache()
    key = (intent.team_id, intent.connection_id, intent.person_id)
    if cache is not None and key in cache:
        links = cache[key]
    else:
        links = list(db.session.scalars(select(CrmLink).where(
            CrmLink.team_id == intent.team_id, CrmLink.person_id == intent.person_id,
            CrmLink.connection_id == intent.connection_id).order_by(CrmLink.id)))
    return ref_of(next((link for link in links if not intent.record_type or link.record_type == intent.record_type),
                       None))


def person_refs(team_id: int, connection_id: int, person_ids: Iterable[int]) -> dict[int, list[CrmRef]]:
    """Every record each of these people has on one connection, in one query."""
    ids = list(person_ids)
    out: dict[int, list[CrmRef]] = {}
    if not ids:
        return out
    links = db.session.scalars(select(CrmLink).where(
        CrmLink.team_id == team_id, CrmLink.connection_id == connection_id, CrmLink.person_id.in_(ids))
        .order_by(CrmLink.id)).all()
    for link in links:
        ref = ref_of(link)
        if ref is not None:
            out.setdefault(link.person_id, []).append(ref)
    return out
