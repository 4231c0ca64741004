"""Locks on a campaign's sync options: an admin, on the campaign page, can lock each area of the
grey arrow (job / pipeline, status on the job, tags, lists, record status) and its Sync Override
for recruiters: "Recruiters can't change this for a person".

Stored as `Campaign.sync_locks` (keys of `sync.settings.CAMPAIGN_LOCKABLE`). The panel shows a
locked area read-only with a lock and why, and refuses a changed value (services.panel_options);
the worker ignores a person's own value for a locked area, even one stored before the lock
(`sync.settings.unlocked_person_choices`, used by services.push.context). A lock is about the
person's choices only: the campaign's own value is what everyone gets."""
from __future__ import annotations

from typing import Any, Mapping

from marshmallow import ValidationError

from models import Campaign
from sync.settings import CAMPAIGN_LOCKABLE

LOCK_LABELS = {"job_id": "Job", "job_status": "Status on the job", "tags": "Tags", "lists": "Lists",
               "status": "Status", "add_when": "Sync Override"}


def has_lock_inputs(form: Mapping[str, Any]) -> bool:
    """Whether the form sets locks (only an admin's form has them)."""
    return "lock" in form or "lock_shown" in form


def parse_locks(form: Mapping[str, Any], current: list[str] | None) -> list[str]:
    """The campaign's locks after an admin's form: each area the form showed (`lock_shown`) is
    locked when its "Recruiters can't change this" box (`lock`) is ticked; areas the form didn't show
    (e.g. while the CRM's lists were loading) keep their lock. ValidationError names `locks`."""
    shown = set(form.getlist("lock_shown")) if hasattr(form, "getlist") else set()
    ticked = set(form.getlist("lock")) if hasattr(form, "getlist") else set()
    unknown = sorted((shown | ticked) - set(CAMPAIGN_LOCKABLE))
    if unknown:
        raise ValidationError({"locks": [f"Not an area that can be locked: {', '.join(unknown)[:200]}."]})
    kept = set(current or ()) - shown
    return [k for k in CAMPAIGN_LOCKABLE if k in kept | (ticked & shown)]


def locked_labels(campaign: Campaign) -> list[str]:
    """The areas locked for recruiters, in words, in the form's order."""
    return [LOCK_LABELS[k] for k in CAMPAIGN_LOCKABLE if k in (campaign.sync_locks or ())]
