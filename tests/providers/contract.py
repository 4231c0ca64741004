"""Shared pieces of the cross-provider contract suite (test_contract*.py): the parametrisation
over registered providers × record types, and helpers that write and compare a person."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

import providers
from providers.base import Capability, Provider
from providers.errors import NotSupported
from providers.types import CrmRecord
from tests.providers.conftest import PROVIDER_KEYS, person_fields

RECORD_TYPES = [(p.key, rt.key) for p in providers.all_providers() for rt in p.record_types]
by_provider = pytest.mark.parametrize("key", PROVIDER_KEYS)
by_record_type = pytest.mark.parametrize("key,rt", RECORD_TYPES, ids=[f"{k}-{r}" for k, r in RECORD_TYPES])


def writable_fields(adapter: Provider, rt: str, uid: str) -> dict[str, str]:
    """Our person, limited to the standard fields this CRM stores for this record type."""
    person = person_fields(uid)
    if adapter.supports(Capability.FIELDS):
        keys = {f.key for f in adapter.list_fields(rt)}
        person = {k: v for k, v in person.items() if k in keys}
    return person


def norm(key: str, value: Any) -> Any:
    """Compare what we wrote with what the CRM gives back, modulo harmless reformatting."""
    if value is None:
        return None
    text = str(value).strip()
    if key == "email":
        return text.lower()
    if key == "phone":
        return re.sub(r"\D", "", text)[-9:]
    if key == "linkedin_url":
        return text.lower().rstrip("/").split("linkedin.com", 1)[-1]
    return text


def per_record_type(fn: Any, *args: Any) -> Any:
    """Capabilities are declared per provider; an adapter may still refuse one record type (e.g.
    pipelines hold candidates only). That is a legitimate answer, reported as a skip, not a pass."""
    try:
        return fn(*args)
    except NotSupported as exc:
        pytest.skip(f"{fn.__name__} not offered for this record type: {exc}")


def create_person(adapter: Provider, rt: str, uid: str) -> tuple[CrmRecord, dict[str, str]]:
    fields = writable_fields(adapter, rt, uid)
    rec = adapter.create(rt, fields)
    assert rec.remote_id
    return rec, fields


def stored_with(crm: Any, remote_id: str, needle: str) -> bool:
    """Does some sandbox row mention both the record and `needle`? (inspection route, read-only)"""
    for rows in crm.state()["tables"].values():
        for row in rows:
            text = json.dumps(row, default=str)
            if needle in text and str(remote_id) in text:
                return True
    return False
