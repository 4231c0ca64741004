"""The panel's campaign picker: a team's live campaigns as `<option>`s, rendered once per change.

A team may have a thousand campaigns, and every panel open shows them all. Building a thousand
rows in Python and escaping each name cost about 2 ms of the open's CPU (bench/panel.py), so each
web process keeps the rendered options per team. The cache key is the team's live campaigns
themselves: one aggregate query returns every id and name, length-prefixed so that no two lists
give the same text, as one string that the database builds. A rename, a new campaign, an archive,
a restore or a deletion changes that string, so the picker can never be stale, and no clock or
invalidation hook is involved. Old entries drop out of a small LRU. The cache lives on the app,
not the module, because one process may run several apps (tests, the CLI) on different databases."""
from __future__ import annotations

import hashlib
import html
import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app
from markupsafe import Markup
from sqlalchemy import String, cast, func, select

from core import db
from models import Campaign

MAX_TEAMS = 128       # a thousand campaigns' options are about 50 KB


@dataclass(frozen=True)
class Picker:
    count: int
    options: Markup     # the <option>s, names escaped, ordered by name


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: OrderedDict[int, tuple[bytes, Picker]] = OrderedDict()

    def get(self, team_id: int, key: bytes) -> Picker | None:
        with self.lock:
            hit = self.entries.get(team_id)
            if hit is None or hit[0] != key:
                return None
            self.entries.move_to_end(team_id)
            return hit[1]

    def put(self, team_id: int, key: bytes, picker: Picker) -> None:
        with self.lock:
            self.entries[team_id] = (key, picker)
            self.entries.move_to_end(team_id)
            while len(self.entries) > MAX_TEAMS:
                self.entries.popitem(last=False)


def _live(team_id: int) -> tuple:
    return Campaign.team_id == team_id, Campaign.archived_at.is_(None)


def _fingerprint(team_id: int) -> bytes:
    """A digest of every live campaign's id and name ("id:length:name," each)."""
    item = cast(Campaign.id, String) + ":" + cast(func.length(Campaign.name), String) + ":" + Campaign.name
    text = db.session.connection().scalar(select(func.aggregate_strings(item, ",")).where(*_live(team_id)))
    return hashlib.blake2b((text or "").encode(), digest_size=20).digest()


def picker(team_id: int) -> Picker:
    """The team's live (not archived) campaigns for the panel's picker, by name."""
    cache: _Cache = current_app.extensions.setdefault("shoal_campaign_picker", _Cache())
    key = _fingerprint(team_id)
    found = cache.get(team_id, key)
    if found is not None:
        return found
    # Plain rows on the session's Core connection: the ORM's result handling doubled this read.
    rows = db.session.connection().execute(select(Campaign.id, Campaign.name).where(*_live(team_id))
                                           .order_by(Campaign.name, Campaign.id)).all()
    # One string built by a join and marked safe once: a Jinja loop over a thousand <option>s
    # cost ~10x this, and html.escape half of markupsafe's escape per name (the same characters).
    options = Markup("".join([f'<option value="{cid}">{html.escape(name)}</option>' for cid, name in rows]))
    # Stored under the key read before the rows: if a change landed in between, the next open
    # reads a new key and renders again, so nothing stale is ever served.
    found = Picker(len(rows), options)
    cache.put(team_id, key, found)
    return found
