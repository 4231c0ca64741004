"""The contract every adapter keeps, run against its sandbox over real sockets: registration,
credentials, typed errors from the sandbox's fault switches, and the record operations.

Parametrised over every registered provider (× record type where it matters). Each capability test
exercises the capability when the adapter declares it and otherwise asserts NotSupported, so every
provider × capability pair is checked one way or the other (the rest: test_contract_capabilities)."""
from __future__ import annotations

from typing import Any

import pytest
import requests

import providers
from providers.base import Capability
from providers.errors import AuthError, NotSupported, RateLimited, Unavailable
from providers.types import STANDARD_FIELDS, AccountInfo
from tests.providers.conftest import IMPORT_ERRORS, person_fields
from tests.providers.contract import by_provider, by_record_type, create_person, norm

# -- registration ---------------------------------------------------------------------------------

def test_every_provider_module_imports() -> None:
    assert IMPORT_ERRORS == {}

@by_provider
def test_declaration(key: str) -> None:
    cls = providers.get_provider(key)
    assert cls.record_types and cls.display_name and cls.default_base_url
    assert cls.rate_budget.calls > 0 and cls.rate_budget.seconds > 0
    schema = cls.credentials_schema()
    assert cls.secret_fields(), "at least one credential must be marked secret"
    assert set(cls.secret_fields()) <= set(schema.fields)


@by_provider
def test_undeclared_capabilities_raise_not_supported(make_crm, key: str) -> None:
    adapter = make_crm(key).adapter()
    rt = adapter.record_types[0].key
    calls = {
        "list_fields": (rt,), "find_person": (rt,), "get": (rt, "1"), "create": (rt, {}),
        "update": (rt, "1", {}), "add_note": (rt, "1", "x"), "list_notes": (rt, "1"),
        "list_note_types": (rt,), "list_jobs": (), "list_job_statuses": (), "add_to_job": (rt, "1", "1"),
        "list_tags": (rt,), "apply_tags": (rt, "1", ["x"]), "list_lists": (rt,), "add_to_list": (rt, "1", "1"),
        "list_statuses": (rt,), "set_status": (rt, "1", "x"), "has_cv": (rt, "1"),
        "upload_cv": (rt, "1", "cv.pdf", b"%PDF"), "off_limits": (rt, "1"), "search_companies": ("Acme",),
        "search": (rt, {}),
    }
    missing = [c for c in Capability if not adapter.supports(c)]
    for cap in missing:
        for name in cap.methods:
            with pytest.raises(NotSupported):
                getattr(adapter, name)(*calls[name])
    with pytest.raises(NotSupported):
        adapter.record_type("no-such-record-type")


# -- connection and errors ------------------------------------------------------------------------

@by_provider
def test_check_connection_good_and_bad_credentials(make_crm, key: str) -> None:
    crm = make_crm(key)
    assert isinstance(crm.adapter().check_connection(), AccountInfo)
    wrong = {k: (f"wrong-{v}" if k in crm.cls.secret_fields() else v) for k, v in crm.credentials.items()}
    assert wrong != crm.credentials
    with pytest.raises(AuthError):
        crm.adapter(wrong).check_connection()


class ShortTimeoutSession(requests.Session):
    """A session whose calls give up after a second, so the timeout fault doesn't take 30 s."""
    def request(self, *args: Any, **kwargs: Any) -> requests.Response:   # type: ignore[override]
        kwargs["timeout"] = (2.0, 1.0)
        return super().request(*args, **kwargs)


@by_provider
@pytest.mark.parametrize("mode,error", [("401", AuthError), ("429", RateLimited), ("500", Unavailable),
                                        ("timeout", Unavailable)])
def test_faults_map_to_typed_errors(make_crm, key: str, mode: str, error: type[Exception]) -> None:
    crm = make_crm(key)
    adapter = crm.adapter(session=ShortTimeoutSession()) if mode == "timeout" else crm.adapter()
    adapter.check_connection()     # any token exchange happens before the fault is armed
    # An adapter may legitimately re-authenticate once after a 401: keep failing long enough.
    crm.fault(mode, count=4 if mode == "401" else 1)
    try:
        with pytest.raises(error) as info:
            adapter.check_connection()
    finally:
        crm.fault(None)
    if mode == "429":
        assert info.value.retry_after > 0


# -- records ----------------------------------------------------------------------------------------

@by_record_type
def test_create_then_find_by_email_and_linkedin(make_crm, unique: str, key: str, rt: str) -> None:
    adapter = make_crm(key).adapter()
    if not adapter.supports(Capability.CREATE):
        with pytest.raises(NotSupported):
            adapter.create(rt, person_fields(unique))
        return
    rec, fields = create_person(adapter, rt, unique)
    if not adapter.supports(Capability.FIND):
        return
    assert adapter.find_person(rt, email=f"nobody.{unique}@example.com") is None
    by_email = adapter.find_person(rt, email=fields["email"].upper())
    assert by_email is not None and by_email.remote_id == rec.remote_id
    assert norm("email", by_email.fields.get("email")) == fields["email"]
    if "linkedin_url" in fields:
        # Spelled differently from what we stored (scheme, case, trailing slash), as captured URLs are.
        spelled = fields["linkedin_url"].replace("https://www.", "http://").upper() + "/"
        by_li = adapter.find_person(rt, linkedin_url=spelled)
        assert by_li is not None and by_li.remote_id == rec.remote_id
        assert adapter.find_person(rt, linkedin_url=f"https://www.linkedin.com/in/nobody-{unique}") is None


@by_record_type
def test_get_returns_what_was_written(make_crm, unique: str, key: str, rt: str) -> None:
    adapter = make_crm(key).adapter()
    if not adapter.supports(Capability.GET):
        with pytest.raises(NotSupported):
            adapter.get(rt, "1")
        return
    rec, fields = create_person(adapter, rt, unique)
    got = adapter.get(rt, rec.remote_id)
    assert got.remote_id == rec.remote_id and got.record_type == rt
    for k, v in fields.items():
        assert norm(k, got.fields.get(k)) == norm(k, v), k
    assert set(STANDARD_FIELDS) & set(got.fields)


@by_record_type
def test_update_changes_only_the_given_fields(make_crm, unique: str, key: str, rt: str) -> None:
    adapter = make_crm(key).adapter()
    if not adapter.supports(Capability.UPDATE):
        with pytest.raises(NotSupported):
            adapter.update(rt, "1", {"first_name": "X"})
        return
    rec, fields = create_person(adapter, rt, unique)
    changes = {"first_name": "Augusta"}
    for k, v in (("phone", "+44 20 7946 0999"), ("title", "Chief Analyst")):
        if k in fields:
            changes[k] = v
    adapter.update(rt, rec.remote_id, changes)
    got = adapter.get(rt, rec.remote_id)
    for k, v in fields.items():
        assert norm(k, got.fields.get(k)) == norm(k, changes.get(k, v)), k
