"""DESIGN §5 rules 1-4 and 6, one table-driven test per rule, each named after the seed sentence it
enforces and run for every CRM whose adapter declares what the rule needs."""
from __future__ import annotations

import pytest

from planner_cases import (SPECS, ada, ids, kinds, matched, not_found, providers_with, run, settings_for,
                           target, without)
from sync.planner import resolve_target
from sync.types import OP_CREATE, OP_LINK, OP_LOOKUP, OP_UPDATE, PUSH, REFUSED, SKIPPED

NO_NOTES = {"note_sources": []}


# -- rule 1: when ---------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", providers_with("create"), ids=ids(providers_with("create")))
@pytest.mark.parametrize("trigger,event,pushes", [
    ("added", "added", True), ("added", "reply", False), ("added", "interested", False),
    ("reply", "added", False), ("reply", "email_sent", False), ("reply", "reply", True),
    ("reply", "interested", True), ("reply", "not_interested", True),
    ("interested", "added", False), ("interested", "reply", False), ("interested", "interested", True),
    ("never", "added", False), ("never", "reply", False), ("never", "interested", False),
])
def test_add_to_crm_when_added_to_the_campaign_when_they_respond_when_interested_or_never(
        spec, trigger, event, pushes):
    rt = spec.record_types[0]
    p = run(spec, event, settings_for(spec, {f"add_{rt}": trigger, **NO_NOTES}))
    if pushes:
        assert p.outcome == PUSH and kinds(p) == [OP_LOOKUP]
        assert p.operations[0].params["purpose"] == "push"
        assert p.operations[0].params["email"] == "ada@analytical.example"
    else:
        assert p.outcome == SKIPPED and kinds(p) == ["skip"]
        assert p.reason and p.operations[0].rule.startswith("rule 1")


@pytest.mark.parametrize("spec", providers_with("create"), ids=ids(providers_with("create")))
@pytest.mark.parametrize("team,user,override,locked,expected,layer", [
    ("added", None, None, False, "added", "team"),
    ("added", "interested", None, False, "interested", "user"),
    ("added", "interested", "reply", False, "reply", "campaign"),
    ("never", None, "added", False, "added", "campaign"),
    ("reply", "added", "added", True, "reply", "team"),     # the admin locked it: no override
])
def test_sync_override_will_override_the_current_team_wide_setting_for_that_campaign_only(
        spec, team, user, override, locked, expected, layer):
    rt = spec.record_types[0]
    key = f"add_{rt}"
    s = settings_for(spec, {key: team, **NO_NOTES}, user={key: user} if user else None,
                     campaign={key: override} if override else None, locks=(key,) if locked else ())
    assert (s.trigger(rt), s.layer(key), s.values[key].locked) == (expected, layer, locked)
    fires = {"added": "added", "reply": "reply", "interested": "interested"}[expected]
    assert run(spec, fires, s).outcome == PUSH
    other_campaign = settings_for(spec, {key: team, **NO_NOTES}, user={key: user} if user else None,
                                  locks=(key,) if locked else ())
    assert other_campaign.trigger(rt) == (user if user and not locked else team)


MULTI = [s for s in SPECS.values() if len(s.record_types) > 1]


@pytest.mark.parametrize("spec", MULTI, ids=ids(MULTI))
def test_sync_as_someone_youd_rather_push_through_as_a_contact_beats_the_campaign(spec):
    first, second = spec.record_types[:2]
    t = resolve_target(first, {"tags": ["a"]}, second, None, spec.record_types)
    assert (t.record_type, t.source) == (second, "person")
    s = settings_for(spec, {f"add_{first}": "never", f"add_{second}": "added", **NO_NOTES})
    p = run(spec, "added", s, tgt=t)
    assert p.outcome == PUSH and p.record_type == second
    # and the other way round: the campaign's type when the person didn't choose
    t2 = resolve_target(first, None, None, None, spec.record_types)
    assert run(spec, "added", s, tgt=t2).outcome == SKIPPED


@pytest.mark.parametrize("spec", list(SPECS.values()), ids=list(SPECS))
@pytest.mark.parametrize("campaign_as,person_as,synced,source", [
    ("first", None, True, "campaign"), ("none", None, False, "campaign"),
    ("none", "first", True, "person"), ("first", "none", False, "person"),
    ("recruit", None, False, "campaign"),          # a record type this CRM doesn't have
])
def test_dont_sync_is_always_a_choice_and_the_persons_sync_as_wins(spec, campaign_as, person_as, synced, source):
    rt = spec.record_types[0]
    fix = {"first": rt}.get
    t = resolve_target(fix(campaign_as, campaign_as), None, fix(person_as, person_as) if person_as else None,
                       None, spec.record_types)
    assert t.source == source and (t.record_type == rt) is synced
    p = run(spec, "added", settings_for(spec, NO_NOTES), tgt=t)
    assert (p.outcome == PUSH) is synced
    if not synced:
        assert p.reason == t.reason and "sync" in p.reason


# -- rule 2: match before create ------------------------------------------------------------------
@pytest.mark.parametrize("spec", providers_with("find", "create", "update"),
                         ids=ids(providers_with("find", "create", "update")))
@pytest.mark.parametrize("state,expected", [
    ("none", [OP_CREATE]),
    ("email", [OP_LINK, OP_UPDATE]),
    ("linked", [OP_UPDATE]),
])
def test_match_before_create_link_and_update_if_found_never_a_duplicate(spec, state, expected):
    s = settings_for(spec, {**NO_NOTES, f"update_mode.{spec.record_types[0]}": "always"})
    st = {"none": not_found(spec), "email": matched(spec, {"title": "Analyst"}),
          "linked": matched(spec, {"title": "Analyst"}, linked=True)}[state]
    p = run(spec, "added", s, state=st)
    core = [k for k in kinds(p) if k in (OP_CREATE, OP_LINK, OP_UPDATE)]
    assert core == expected
    assert p.backfill and p.outcome == PUSH
    if state != "none":
        assert all(op.remote_id == "r42" for op in p.operations if op.kind in (OP_LINK, OP_UPDATE))
    # A job that runs twice plans the very same operations with the very same keys.
    again = run(spec, "added", s, state=st)
    assert [o.key for o in again.operations] == [o.key for o in p.operations]
    other_intent = run(spec, "added", s, state=st, key="evt2-conn1")
    assert not {o.key for o in other_intent.operations} & {o.key for o in p.operations}


@pytest.mark.parametrize("spec", providers_with("find"), ids=ids(providers_with("find")))
def test_match_before_create_looks_up_by_email_then_linkedin_url(spec):
    p = run(spec, "added", settings_for(spec, NO_NOTES), person=ada(email=None))
    assert kinds(p) == [OP_LOOKUP]
    assert p.operations[0].params == {"email": None, "linkedin_url": "https://www.linkedin.com/in/ada",
                                      "purpose": "push"}


# -- rule 3: update mode --------------------------------------------------------------------------
BLANK_TABLE = [
    # mode,      ours,        theirs,      written?
    ("if_blank", "CTO",       None,        True),
    ("if_blank", "CTO",       "",          True),
    ("if_blank", "CTO",       "   ",       True),
    ("if_blank", "CTO",       "Engineer",  False),
    ("if_blank", 7,           0,           False),   # 0 is a value, not blank
    ("if_blank", True,        False,       False),   # so is false
    ("if_blank", ["python"],  [],          True),    # an empty multi-select is blank
    ("always",   "CTO",       "Engineer",  True),
    ("always",   7,           0,           True),
    ("always",   "",          "Engineer",  False),   # our empty value never blanks theirs
    ("always",   "   ",       "Engineer",  False),
    ("always",   None,        "Engineer",  False),
    ("always",   "CTO",       "CTO",       False),   # already up to date: no write
]


@pytest.mark.parametrize("spec", providers_with("update"), ids=ids(providers_with("update")))
@pytest.mark.parametrize("mode,ours,theirs,written", BLANK_TABLE)
def test_only_update_if_blank_will_only_update_when_the_field_is_empty(spec, mode, ours, theirs, written):
    rt = spec.record_types[0]
    s = settings_for(spec, {**NO_NOTES, f"update_mode.{rt}": mode})
    person = ada(extra={"custom:7": ours})
    p = run(spec, "added", s, person=person, state=matched(spec, {**{"custom:7": theirs}, **_same_as(person)},
                                                           linked=True))
    updates = [op for op in p.operations if op.kind == OP_UPDATE]
    if written:
        assert [dict(u.fields) for u in updates] == [{"custom:7": ours}]
        assert updates[0].fields_before == {"custom:7": theirs}
        assert ("always update" if mode == "always" else "only update if blank") in updates[0].rule
    else:
        assert updates == []


@pytest.mark.parametrize("spec", providers_with("update"), ids=ids(providers_with("update")))
def test_always_update_will_update_the_field_regardless_overridable_per_field(spec):
    rt = spec.record_types[0]
    s = settings_for(spec, {**NO_NOTES, f"update_mode.{rt}": "always",
                            f"update_mode_fields.{rt}": {"title": "if_blank"}})
    p = run(spec, "added", s, state=matched(spec, {"title": "Analyst", "company": "Old Co", "phone": ""},
                                            linked=True))
    update = next(op for op in p.operations if op.kind == OP_UPDATE)
    assert "title" not in update.fields
    assert update.fields["company"] == "Analytical Engines" and update.fields["phone"] == "+44 20 7946 0000"
    kept = next(op for op in p.operations if op.kind == "skip" and "only update if blank" in op.rule)
    assert kept.params["fields"] == ["title"] and "Job title" in kept.reason


def _same_as(person) -> dict:
    """CRM values equal to ours for the standard fields, so only the field under test differs."""
    return {k: v for k, v in person.values().items() if k != "custom:7"}


# -- rule 4: mandatory fields ---------------------------------------------------------------------
@pytest.mark.parametrize("spec", providers_with("create"), ids=ids(providers_with("create")))
@pytest.mark.parametrize("mandatory,person_kw,missing", [
    (["email", "phone"], {"phone": None}, ("phone",)),
    (["email", "phone"], {"phone": "  ", "email": ""}, ("email", "phone")),
    (["custom:9"], {}, ("custom:9",)),
    (["custom:9"], {"extra": {"custom:9": 0}}, ()),      # 0 is filled
    (["email"], {}, ()),
])
def test_mandatory_fields_must_be_filled_to_push_into_the_crm(spec, mandatory, person_kw, missing):
    rt = spec.record_types[0]
    s = settings_for(spec, {**NO_NOTES, f"mandatory_fields.{rt}": mandatory})
    p = run(spec, "added", s, person=ada(**person_kw))
    if missing:
        assert (p.outcome, kinds(p), p.missing_fields) == (REFUSED, ["refuse"], missing)
        assert p.operations[0].rule == "rule 4: mandatory fields"
        assert all(({"email": "Email", "phone": "Phone"}.get(f, f)) in p.reason for f in missing)
        # it goes once they are filled
        filled = {f: "x@y.example" if f == "email" else "1" for f in missing if not f.startswith("custom")}
        extra = {f: "set" for f in missing if f.startswith("custom")}
        p2 = run(spec, "added", s, person=ada(**{**person_kw, **filled, "extra": extra}))
        assert kinds(p2) == [OP_LOOKUP]
    else:
        assert kinds(p) == [OP_LOOKUP]
        assert kinds(run(spec, "added", s, person=ada(**person_kw), state=not_found(spec)))[0] == OP_CREATE


# -- rule 6: default status and CV ----------------------------------------------------------------
@pytest.mark.parametrize("spec", providers_with("create", "statuses"), ids=ids(providers_with("create", "statuses")))
@pytest.mark.parametrize("state,option,expected", [
    ("new", None, "st-new"), ("new", "st-opt", "st-opt"), ("found", None, None), ("found", "st-opt", "st-opt"),
])
def test_default_status_add_new_records_with_a_default_status(spec, state, option, expected):
    rt = spec.record_types[0]
    s = settings_for(spec, {**NO_NOTES, f"default_status.{rt}": "st-new"})
    st = not_found(spec) if state == "new" else matched(spec, linked=True)
    p = run(spec, "added", s, tgt=target(spec, {"status": option} if option else None), state=st)
    statuses = [op.params["status"] for op in p.operations if op.kind == "set_status"]
    assert statuses == ([expected] if expected else [])


@pytest.mark.parametrize("spec", providers_with("cv"), ids=ids(providers_with("cv")))
@pytest.mark.parametrize("state,has_cv,keep,uploads", [
    ("new", False, True, True), ("found", False, True, True), ("found", True, True, False),
    ("found", True, False, True), ("linked", False, True, True),
    ("linked", True, False, False),     # we uploaded it on the first push: never a second copy
])
def test_dont_overwrite_original_cv_if_a_contact_has_an_existing_cv_we_will_not_upload(
        spec, state, has_cv, keep, uploads):
    s = settings_for(spec, {**NO_NOTES, "keep_original_cv": keep})
    st = not_found(spec) if state == "new" else matched(spec, linked=state == "linked", has_cv=has_cv)
    p = run(spec, "added", s, person=ada(cv_available=True), state=st)
    assert ("upload_cv" in kinds(p)) is uploads
    if not uploads:
        assert any(op.kind == "skip" and "CV" in op.reason for op in p.operations)
    assert "upload_cv" not in kinds(run(spec, "added", s, person=ada(), state=st))   # no CV held


def test_cv_and_status_rules_need_the_capability():
    spec = without(SPECS["itris"], "cv", "statuses")
    s = settings_for(spec, NO_NOTES)
    p = run(spec, "added", s, person=ada(cv_available=True), state=not_found(spec))
    assert kinds(p) == [OP_CREATE]


@pytest.mark.parametrize("spec", providers_with("create"), ids=ids(providers_with("create")))
@pytest.mark.parametrize("trigger,reason", [
    ("reply", "Waiting for a reply"), ("interested", "Waiting for them to be interested"),
    ("never", "is set to never"), ("added", None),
])
def test_someone_added_before_their_trigger_is_waiting_not_skipped_for_nothing(spec, trigger, reason):
    """A person added to a campaign that adds them "when they reply" is waiting for a reply."""
    rt = spec.record_types[0]
    p = run(spec, "added", settings_for(spec, {f"add_{rt}": trigger, **NO_NOTES}))
    if reason is None:
        assert p.outcome == PUSH
    else:
        assert p.outcome == SKIPPED and reason in p.reason and "Nothing to send" not in p.reason


@pytest.mark.parametrize("spec", providers_with("create"), ids=ids(providers_with("create")))
@pytest.mark.parametrize("trigger", ["added", "reply", "interested", "never"])
def test_a_resync_asked_for_after_a_campaign_change_pushes_whatever_the_trigger(spec, trigger):
    rt = spec.record_types[0]
    p = run(spec, "resync", settings_for(spec, {f"add_{rt}": trigger, **NO_NOTES}))
    assert p.outcome == PUSH and kinds(p) == [OP_LOOKUP] and p.operations[0].params["purpose"] == "push"
