"""Sync health of one connection: syncs and failures per day for 30 days (and the geometry of the
server-rendered SVG chart), parked syncs grouped by reason with "retry all with this reason", the
rate budget in use right now and the queue depth (through `services.background`, never RQ here).

A day's *syncs* are the distinct sync intents the audit log shows work on that day (a create, an
update, a note, a refusal...); its *failures* are the distinct intents with a failed row that day
(an operation the CRM refused, or a sync that gave up and parked). Days are UTC dates."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import case, func, select

from core import db, get_redis
from models import AuditEntry, Connection, SyncIntent, IntentState, team_query, utcnow
from providers import get_provider
from services import background
from services.push.runner import retry_many
from services.rate_budget import RateBudget, Usage, pace_for

DAYS = 30
PARKED_SHOWN = 100
# Counts and ids inside a reason ("attempt 3", "after 40 attempts") don't make it a different reason.
_VARYING = re.compile(r"\b(attempts?|after|retry(?:ing)?)\s*\(?\s*\d+\)?", re.I)


@dataclass(frozen=True)
class Day:
    day: date
    syncs: int
    failures: int


@dataclass(frozen=True)
class Group:
    key: str
    reason: str
    count: int
    latest: datetime
    intent_ids: tuple[int, ...]


def crm_name(conn: Connection) -> str:
    return get_provider(conn.provider_key).display_name


def get_connection(team_id: int, connection_id: int) -> Connection | None:
    return db.session.scalars(team_query(Connection, team_id).where(Connection.id == connection_id)).first()


def daily(connection_id: int, days: int = DAYS, today: date | None = None) -> list[Day]:
    """One Day per date of the last `days` (oldest first), zeros included."""
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    day = func.date(AuditEntry.created_at)
    rows = db.session.execute(
        select(day, func.count(func.distinct(AuditEntry.intent_id)),
               func.count(func.distinct(case((AuditEntry.result == "failed", AuditEntry.intent_id)))))
        .where(AuditEntry.connection_id == connection_id, AuditEntry.intent_id.is_not(None),
               AuditEntry.created_at >= datetime.combine(first, datetime.min.time()))
        .group_by(day)).all()
    found = {str(d)[:10]: (s, f) for d, s, f in rows}
    out = []
    for i in range(days):
        d = first + timedelta(days=i)
        s, f = found.get(d.isoformat(), (0, 0))
        out.append(Day(d, int(s), int(f)))
    return out


def chart(days: list[Day], width: int = 900, height: int = 220) -> dict[str, Any]:
    """Bar geometry for the SVG: a pair of bars per day (syncs, failures), a y scale with 4 ticks."""
    left, bottom, top = 36, 22, 8
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max([d.syncs for d in days] + [d.failures for d in days] + [1])
    step = max(1, -(-peak // 4))                       # ceil(peak / 4): 4 whole-number ticks
    scale_max = step * 4
    slot = plot_w / max(1, len(days))
    bar = max(1.0, slot * 0.38)

    def y(v: int) -> float:
        return top + plot_h - plot_h * v / scale_max

    bars = []
    for i, d in enumerate(days):
        x = left + i * slot + slot * 0.1
        bars.append({"day": d, "x": round(x, 1), "w": round(bar, 1),
                     "sy": round(y(d.syncs), 1), "sh": round(plot_h * d.syncs / scale_max, 1),
                     "fx": round(x + bar, 1), "fy": round(y(d.failures), 1),
                     "fh": round(plot_h * d.failures / scale_max, 1),
                     "label": d.day.strftime("%d %b") if i % 5 == 0 or i == len(days) - 1 else ""})
    ticks = [{"v": step * k, "y": round(y(step * k), 1)} for k in range(5)]
    return {"width": width, "height": height, "left": left, "right": width - 8, "base": top + plot_h,
            "bars": bars, "ticks": ticks, "total_syncs": sum(d.syncs for d in days),
            "total_failures": sum(d.failures for d in days)}


def _normalise(reason: str | None) -> str:
    text = (reason or "no reason recorded").strip()
    return " ".join(_VARYING.sub(lambda m: m.group(1), text).split())


def _key(normalised: str) -> str:
    return hashlib.sha256(normalised.encode()).hexdigest()[:16]


def failure_groups(connection_id: int) -> list[Group]:
    """Parked syncs of the connection grouped by reason (counts aside), biggest group first."""
    rows = db.session.execute(select(SyncIntent.id, SyncIntent.reason, SyncIntent.updated_at).where(
        SyncIntent.connection_id == connection_id, SyncIntent.state == IntentState.PARKED)).all()
    groups: dict[str, list[Any]] = {}
    for intent_id, reason, updated in rows:
        groups.setdefault(_normalise(reason), []).append((intent_id, updated))
    out = [Group(_key(r), r, len(items), max(u for _i, u in items), tuple(sorted(i for i, _u in items)))
           for r, items in groups.items()]
    return sorted(out, key=lambda g: (-g.count, g.reason))


def retry_group(team_id: int, connection_id: int, key: str) -> int | None:
    """Queue again every parked sync whose reason is in group `key`. None if there is no such group."""
    group = next((g for g in failure_groups(connection_id) if g.key == key), None)
    if group is None:
        return None
    return retry_many(group.intent_ids, team_id)


def parked(connection_id: int) -> list[SyncIntent]:
    return list(db.session.scalars(select(SyncIntent).where(
        SyncIntent.connection_id == connection_id, SyncIntent.state == IntentState.PARKED)
        .order_by(SyncIntent.updated_at.desc(), SyncIntent.id.desc()).limit(PARKED_SHOWN)))


def budget(conn: Connection) -> tuple[Usage, str]:
    """The connection's rate budget now, and where its pace comes from (documented or overridden)."""
    provider = get_provider(conn.provider_key)
    window = float(current_app.config.get("RATE_BUDGET_WINDOW_SECONDS", 60))
    pace = pace_for(provider, conn.rate_limit_per_minute, window)
    if conn.rate_limit_per_minute is None:
        doc = provider.rate_budget
        source = f"{provider.display_name} documents {doc.calls} calls per {_span(doc.seconds)}"
    elif conn.rate_limit_per_minute <= 0:
        source = "no limit set on this connection"
    else:
        source = f"set on this connection: {conn.rate_limit_per_minute} calls per minute"
    return RateBudget(get_redis(), conn.id, pace).usage(), source


def _span(seconds: float) -> str:
    return {1: "second", 60: "minute", 3600: "hour", 86400: "day"}.get(int(seconds), f"{seconds:g} seconds")


def queue_depths() -> dict[str, int] | None:
    """Jobs waiting per queue (all teams: workers are shared); None if the queue can't be reached."""
    try:
        return background.queue_depths()
    except Exception:   # Redis down: the page still shows everything the database knows
        return None


def pending_here(connection_id: int) -> int:
    """This connection's syncs waiting for a worker (queued, retrying later, or running now)."""
    return db.session.scalar(select(func.count()).select_from(SyncIntent).where(
        SyncIntent.connection_id == connection_id,
        SyncIntent.state.in_((IntentState.PENDING, IntentState.QUEUED, IntentState.RUNNING))))
