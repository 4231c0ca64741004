"""Per-CRM settings schemas reject settings the CRM lacks and values it doesn't offer; the preview
shows what a push would write."""
from __future__ import annotations

from datetime import datetime

import pytest
from marshmallow import ValidationError

from planner_cases import SPECS, ada, ids, matched, settings_for, target
from sync.preview import preview
from sync.schemas import (ProviderOptions, settings_schema, sync_options_schema, sync_override_schema,
                          validate_locks, validate_sync_as)
from sync.types import PUSH, REFUSED, SKIPPED, ProviderSpec

ALL = list(SPECS.values())


def options_for(spec: ProviderSpec) -> ProviderOptions:
    per_type = lambda values: {rt: values for rt in spec.record_types}  # noqa: E731
    return ProviderOptions(spec.key, fields=per_type(["first_name", "last_name", "email", "title", "custom:12"]),
                           filterable=per_type(["email", "custom:12"]), statuses=per_type(["10", "11"]),
                           note_types=per_type(["nt-1"]), job_statuses=["OPEN", "SOURCING"],
                           tags=per_type(["t-1"]), lists=per_type(["l-1"]), jobs=["j-1"])


@pytest.mark.parametrize("spec", ALL, ids=ids(ALL))
def test_schema_accepts_every_supported_setting_with_a_value_the_crm_offers(spec):
    rt = spec.record_types[0]
    payload = {f"add_{rt}": "reply", f"update_mode.{rt}": "always", f"mandatory_fields.{rt}": ["email", "custom:12"],
               f"update_mode_fields.{rt}": {"title": "if_blank"}, f"field_mapping.{rt}": {"custom:12": "linkedin_url"},
               "sync_manual_updates": True, "note_sources": ["reply", "call"], f"displayed_fields.{rt}": None}
    optional = {"statuses": {f"default_status.{rt}": "10"}, "note_types": {f"note_mapping.{rt}": {"reply": "nt-1"}},
                "jobs": {"job_status_whitelist": ["OPEN"]}, "search": {f"filterable_fields.{rt}": ["custom:12"]},
                "cv": {"keep_original_cv": False}, "off_limits": {"block_off_limits": False},
                "company_search": {"company_warning": False}}
    for cap, extra in optional.items():
        if cap in spec.capabilities:
            payload.update(extra)
    assert settings_schema(spec, options_for(spec)).load(payload) == payload


@pytest.mark.parametrize("spec", ALL, ids=ids(ALL))
@pytest.mark.parametrize("make,error", [
    (lambda rt: {f"update_mode.{rt}": "sometimes"}, "Must be one of"),
    (lambda rt: {f"add_{rt}": "tomorrow"}, "Must be one of"),
    (lambda rt: {f"mandatory_fields.{rt}": ["custom:999"]}, "Must be one of"),   # not a field of this CRM
    (lambda rt: {f"field_mapping.{rt}": {"email": "favourite_colour"}}, "Must be one of"),
    (lambda rt: {"note_sources": ["telepathy"]}, "Must be one of"),
    (lambda rt: {"sync_manual_updates": "perhaps"}, "Not a valid boolean"),
    (lambda rt: {"add_recruit": "reply"}, "has no record type"),
    (lambda rt: {"frobnicate": True}, "Unknown setting"),
])
def test_schema_rejects_values_the_crm_doesnt_offer(spec, make, error):
    payload = make(spec.record_types[0])
    with pytest.raises(ValidationError) as exc:
        settings_schema(spec, options_for(spec)).load(payload)
    [(key, messages)] = exc.value.messages.items()
    assert key == next(iter(payload)) and error in str(messages)


@pytest.mark.parametrize("spec", ALL, ids=ids(ALL))
@pytest.mark.parametrize("capability,make", [
    ("statuses", lambda rt: {f"default_status.{rt}": "10"}),
    ("note_types", lambda rt: {f"note_mapping.{rt}": {"reply": "nt-1"}}),
    ("off_limits", lambda rt: {"block_off_limits": True}),
    ("cv", lambda rt: {"keep_original_cv": True}),
    ("search", lambda rt: {f"filterable_fields.{rt}": ["email"]}),
    ("company_search", lambda rt: {"company_info": True}),
])
def test_schema_rejects_a_setting_the_crm_doesnt_support_and_says_why(spec, capability, make):
    payload = make(spec.record_types[0])
    schema = settings_schema(spec, options_for(spec))
    if capability in spec.capabilities:
        assert schema.load(payload) == payload
        return
    with pytest.raises(ValidationError) as exc:
        schema.load(payload)
    assert f"Not available for {spec.key}" in str(exc.value.messages) and capability in str(exc.value.messages)


def test_unknown_options_are_only_type_checked():
    spec = SPECS["cats"]
    loaded = settings_schema(spec, ProviderOptions("CATS")).load({"mandatory_fields.candidate": ["custom:77"]})
    assert loaded == {"mandatory_fields.candidate": ["custom:77"]}


@pytest.mark.parametrize("spec", ALL, ids=ids(ALL))
def test_campaign_sync_override_sync_as_and_options_are_checked_against_the_crm(spec):
    rt = spec.record_types[0]
    assert sync_override_schema(spec).load({f"add_{rt}": "interested"}) == {f"add_{rt}": "interested"}
    with pytest.raises(ValidationError):
        sync_override_schema(spec).load({"update_mode.candidate": "always"})    # not an override key
    assert validate_sync_as(spec, "none") == "none" and validate_sync_as(spec, rt) == rt
    with pytest.raises(ValidationError):
        validate_sync_as(spec, "prospect")
    schema = sync_options_schema(spec, rt, options_for(spec))
    full = {"job_id": "j-1", "tags": ["t-1"], "lists": ["l-1"], "status": "10"}
    areas = {"job_id": "jobs", "tags": "tags", "lists": "lists", "status": "statuses"}
    for key, value in full.items():
        if areas[key] in spec.capabilities:
            assert schema.load({key: value}) == {key: value}
            bad = {key: ["zzz"] if isinstance(value, list) else "zzz"}
            with pytest.raises(ValidationError):
                schema.load(bad)
        else:
            with pytest.raises(ValidationError) as exc:
                schema.load({key: value})
            assert "Not available" in str(exc.value.messages)
    assert validate_locks(spec, [f"add_{rt}", f"add_{rt}"]) == [f"add_{rt}"]
    with pytest.raises(ValidationError):
        validate_locks(spec, ["add_nobody"])


# -- preview --------------------------------------------------------------------------------------
NOW = datetime(2026, 11, 2, 9, 30)


@pytest.mark.parametrize("spec", ALL, ids=ids(ALL))
def test_preview_of_a_new_record_lists_every_field_it_will_write_and_when(spec):
    rt = spec.record_types[0]
    s = settings_for(spec, {f"add_{rt}": "reply", "note_sources": ["reply"]})
    pv = preview(s, ada(phone=""), target(spec, {"tags": ["t-1"]}), None, capabilities=spec.capabilities,
                 crm_name="TheCRM", now=NOW)
    assert pv.outcome == PUSH and pv.when == "When they reply"
    assert pv.steps[0].startswith(f"Create {rt.capitalize()} in TheCRM with 7 field(s)")
    assert {r.field: r.action for r in pv.rows} == {f: "write" for f in ("first_name", "last_name", "email", "title",
                                                                          "company", "location", "linkedin_url")}
    assert any("note" in step for step in pv.steps)
    assert ("Add tags: t-1" in pv.steps) is ("tags" in spec.capabilities)
    assert pv.lines()[0].startswith("push: Add as a new")


@pytest.mark.parametrize("spec", ALL, ids=ids(ALL))
def test_preview_of_a_matched_record_shows_written_kept_and_unchanged_fields(spec):
    rt = spec.record_types[0]
    s = settings_for(spec, {f"update_mode.{rt}": "if_blank", "note_sources": []})
    crm = {"first_name": "Ada", "last_name": "", "title": "Countess", "email": None}
    pv = preview(s, ada(), target(spec), matched(spec, crm), capabilities=spec.capabilities, crm_name="TheCRM", now=NOW)
    actions = {r.field: (r.current, r.new, r.action) for r in pv.rows}
    assert actions["first_name"] == ("Ada", "Ada", "same")
    assert actions["last_name"] == ("", "Lovelace", "write")
    assert actions["title"] == ("Countess", "Engineer", "keep")
    assert pv.steps[0] == f"Link to existing {rt.capitalize()} r42 (matched by email)"


@pytest.mark.parametrize("spec", ALL, ids=ids(ALL))
def test_preview_says_why_nothing_will_be_written(spec):
    rt = spec.record_types[0]
    never = preview(settings_for(spec, {f"add_{rt}": "never"}), ada(), target(spec), None,
                    capabilities=spec.capabilities, crm_name="TheCRM")
    assert (never.outcome, never.reason) == (SKIPPED, f"Add {rt.capitalize()} to TheCRM is set to never")
    missing = preview(settings_for(spec, {f"mandatory_fields.{rt}": ["phone"]}), ada(phone=None), target(spec),
                      None, capabilities=spec.capabilities, crm_name="TheCRM", now=NOW)
    assert missing.outcome == REFUSED and missing.missing_fields == ("phone",)
    assert [r.action for r in missing.rows if r.field == "phone"] == ["missing"] and "Phone" in missing.reason
    dont = preview(settings_for(spec), ada(), target(spec).__class__(None, reason="Set to don't sync for this person"),
                   None, capabilities=spec.capabilities)
    assert (dont.outcome, dont.reason) == (SKIPPED, "Set to don't sync for this person")
