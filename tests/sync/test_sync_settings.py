"""Settings table and layered resolution (DESIGN §4): provenance, locks, which CRM gets which setting."""
from __future__ import annotations

import random

import pytest

from planner_cases import SPECS, ids, settings_for
from sync import retry
from sync.settings import SETTINGS, definitions_for, resolve
from sync.types import LAYERS, ProviderSpec

ALL = list(SPECS.values())


@pytest.mark.parametrize("spec", ALL, ids=ids(ALL))
@pytest.mark.parametrize("layers,expected,layer", [
    ({}, "if_blank", "provider"),
    ({"team": "always"}, "always", "team"),
    ({"team": "always", "user": "if_blank"}, "if_blank", "user"),
    ({"team": "always", "user": "if_blank", "campaign": "always"}, "always", "campaign"),
    ({"team": "if_blank", "campaign": "if_blank", "person": "always"}, "always", "person"),
    ({"team": "always", "user": None}, "always", "team"),            # None = inherit
])
def test_later_layers_win_and_each_value_says_which_layer_it_came_from(spec, layers, expected, layer):
    key = f"update_mode.{spec.record_types[0]}"
    s = resolve(definitions_for(spec), {name: {key: v} for name, v in layers.items()})
    assert (s.get(key), s.layer(key), s.values[key].locked) == (expected, layer, False)


@pytest.mark.parametrize("spec", ALL, ids=ids(ALL))
@pytest.mark.parametrize("team_value,expected,layer", [("never", "never", "team"), (None, "added", "provider")])
def test_an_admin_lock_keeps_the_team_value_whatever_users_campaigns_or_people_say(spec, team_value, expected, layer):
    key = f"add_{spec.record_types[0]}"
    s = settings_for(spec, {key: team_value}, user={key: "reply"}, campaign={key: "interested"},
                     person={key: "reply"}, locks=(key,))
    assert (s.get(key), s.layer(key), s.values[key].locked) == (expected, layer, True)
    # other keys stay overridable
    other = settings_for(spec, {"only_notes_to_synced": False}, user={"only_notes_to_synced": True}, locks=(key,))
    if "only_notes_to_synced" in other.values:
        assert (other.get("only_notes_to_synced"), other.layer("only_notes_to_synced")) == (True, "user")


def test_resolve_rejects_an_unknown_layer_and_ignores_settings_the_crm_lacks():
    spec = SPECS["cats"]
    with pytest.raises(ValueError):
        resolve(definitions_for(spec), {"org": {}})
    s = resolve(definitions_for(spec), {"team": {"add_applicant": "reply", "update_mode.candidate": "always"}})
    assert "add_applicant" not in s.values and s.get("update_mode.candidate") == "always"


def test_defaults_are_copies_so_a_caller_cant_change_them():
    spec = SPECS["cats"]
    s = resolve(definitions_for(spec), {})
    s.get("note_sources").append("bounced")
    assert "bounced" not in resolve(definitions_for(spec), {}).get("note_sources")


# Which settings DESIGN §4's "providers" column promises each CRM.
DESIGN_COLUMN = {
    "block_off_limits": {"itris"},
    "default_status": {"itris"},
    "filterable_fields": {"smartrecruiters"},
    "note_mapping": {"itris"},
    "job_status_whitelist": {"smartrecruiters"},
    "company_info": {"cats", "itris"},
    "company_warning": {"cats", "itris"},
    "keep_original_cv": {"itris"},
}
FOR_ALL = ("sync_manual_updates", "add", "only_notes_to_synced", "displayed_fields", "mandatory_fields",
           "update_mode", "note_sources", "field_mapping")


@pytest.mark.parametrize("spec", ALL, ids=ids(ALL))
def test_every_crm_gets_the_settings_design_lists_for_it_and_only_what_it_supports(spec):
    defs = definitions_for(spec)
    names = {d.name for d in defs.values()}
    assert set(FOR_ALL) <= names
    for rt in spec.record_types:
        assert {f"add_{rt}", f"update_mode.{rt}", f"mandatory_fields.{rt}", f"displayed_fields.{rt}"} <= set(defs)
    for name, providers in DESIGN_COLUMN.items():
        if spec.key in providers:
            assert name in names, f"DESIGN §4 promises {name} for {spec.key}"
    for d in defs.values():
        assert d.requires <= spec.capabilities      # nothing the CRM can't do


def test_settings_table_is_complete_and_worded_like_the_seeds():
    by_name = {d.name: d for d in SETTINGS}
    assert by_name["add"].label_for("itris", "Applicant") == "Add Applicant to itris"
    assert by_name["sync_manual_updates"].label_for("CATS") == "Sync manual contact updates to CATS"
    assert by_name["keep_original_cv"].label_for("itris") == "Don't overwrite original CV in itris"
    assert by_name["update_mode"].label_for("Pinpoint") == "Update field in Pinpoint"
    assert all(d.help and d.label and d.section for d in SETTINGS)
    everything = ProviderSpec("x", ("candidate",), frozenset().union(*(d.requires for d in SETTINGS)))
    assert len(definitions_for(everything)) == len(SETTINGS)
    assert LAYERS == ("provider", "team", "user", "campaign", "person")


@pytest.mark.parametrize("attempt", range(1, 25))
def test_backoff_is_exponential_jittered_and_capped(attempt):
    rng = random.Random(attempt)
    ceiling = min(300.0, 2.0 * 2 ** (attempt - 1))
    for _ in range(50):
        d = retry.backoff(attempt, base=2.0, cap=300.0, jitter_fraction=0.25, rng=rng)
        assert ceiling * 0.75 <= d <= ceiling <= 300.0
    assert retry.backoff(attempt, base=2.0, cap=300.0, jitter_fraction=0.0) == ceiling


def test_backoff_rejects_nonsense_and_survives_huge_attempts():
    with pytest.raises(ValueError):
        retry.backoff(0)
    with pytest.raises(ValueError):
        retry.backoff(1, jitter_fraction=1.5)
    assert retry.backoff(10_000, cap=60.0, jitter_fraction=0.0) == 60.0


def test_sync_package_stays_pure():
    """sync/ must not import Flask, requests, Redis, RQ, SQLAlchemy or the provider adapters."""
    import ast
    import pathlib

    import sync
    forbidden = {"flask", "flask_login", "flask_sqlalchemy", "requests", "redis", "rq", "sqlalchemy", "providers",
                 "models", "core", "services", "jobs", "blueprints"}
    for path in pathlib.Path(sync.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not roots & forbidden, f"{path.name} imports {roots & forbidden}"
