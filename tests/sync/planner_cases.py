"""Shared data for the pure sync tests: each CRM's record types and capabilities, taken from the
provider registry (the adapters' own declarations), and small builders for planner inputs.

An adapter that isn't registered yet (written in parallel) falls back to the capabilities DESIGN §4's
"providers" column implies for it, so the rule tables still cover all five CRMs."""
from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from typing import Any

from sync.planner import plan, resolve_target
from sync.settings import definitions_for, resolve
from sync.types import CrmState, EventInfo, PersonInfo, Plan, ProviderSpec, ResolvedSettings, Target

PROVIDER_KEYS = ("tracker", "smartrecruiters", "cats", "itris", "pinpoint")

_BASE = {"fields", "find", "get", "create", "update", "notes"}
# From DESIGN §4 (which settings apply where) and §3/seeds (record types).
DESIGN_FALLBACK = {
    "tracker": ProviderSpec("tracker", ("candidate", "contact"), frozenset(_BASE | {"jobs"})),
    "smartrecruiters": ProviderSpec("smartrecruiters", ("candidate",),
                                    frozenset(_BASE | {"jobs", "search", "tags"})),
    "cats": ProviderSpec("cats", ("candidate", "contact"),
                         frozenset(_BASE | {"company_search", "jobs", "tags", "lists"})),
    "itris": ProviderSpec("itris", ("applicant", "contact"),
                          frozenset(_BASE | {"off_limits", "statuses", "note_types", "cv", "company_search",
                                             "tags"})),
    "pinpoint": ProviderSpec("pinpoint", ("application",), frozenset(_BASE | {"jobs", "tags"})),
}


def _load_specs() -> dict[str, ProviderSpec]:
    specs = dict(DESIGN_FALLBACK)
    from providers import _REGISTRY
    for key in PROVIDER_KEYS:
        try:
            importlib.import_module(f"providers.{key}")
        except Exception:   # adapter mid-write in a parallel branch: keep the DESIGN fallback
            continue
        if key in _REGISTRY:
            specs[key] = ProviderSpec.from_provider(_REGISTRY[key])
    return specs


SPECS: dict[str, ProviderSpec] = _load_specs()


def providers_with(*capabilities: str) -> list[ProviderSpec]:
    """Every CRM whose adapter declares all of `capabilities` (the parametrisation of a rule)."""
    return [s for s in SPECS.values() if set(capabilities) <= s.capabilities]


def without(spec: ProviderSpec, *capabilities: str) -> ProviderSpec:
    return ProviderSpec(spec.key, spec.record_types, spec.capabilities - set(capabilities))


T0 = datetime(2026, 11, 2, 9, 0)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def settings_for(spec: ProviderSpec, team: dict[str, Any] | None = None, *, user: dict[str, Any] | None = None,
                 campaign: dict[str, Any] | None = None, person: dict[str, Any] | None = None,
                 locks: tuple[str, ...] = ()) -> ResolvedSettings:
    layers = {"team": team or {}, "user": user or {}, "campaign": campaign or {}, "person": person or {}}
    return resolve(definitions_for(spec), layers, locks)


def ada(**overrides: Any) -> PersonInfo:
    values: dict[str, Any] = dict(first_name="Ada", last_name="Lovelace", email="ada@analytical.example",
                                  phone="+44 20 7946 0000", title="Engineer", company="Analytical Engines",
                                  location="London", linkedin_url="https://www.linkedin.com/in/ada")
    values.update(overrides)
    return PersonInfo(**values)


def target(spec: ProviderSpec, options: dict[str, Any] | None = None) -> Target:
    return resolve_target(spec.record_types[0], options or {}, None, None, spec.record_types)


def run(spec: ProviderSpec, kind: str, settings: ResolvedSettings, *, person: PersonInfo | None = None,
        tgt: Target | None = None, state: CrmState | None = None, event_id: int = 1, minutes: int = 0,
        body: str | None = None, data: dict[str, Any] | None = None, key: str = "evt1-conn1") -> Plan:
    """Plan one event; `state` None = phase 1."""
    event = EventInfo(kind, at(minutes), event_id=event_id, body=body, data=data or {})
    return plan(event, settings, person or ada(), tgt or target(spec), state,
                capabilities=spec.capabilities, intent_key=key, crm_name=spec.key)


def not_found(spec: ProviderSpec) -> CrmState:
    return CrmState(spec.record_types[0])


def matched(spec: ProviderSpec, fields: dict[str, Any] | None = None, *, linked: bool = False,
            **kw: Any) -> CrmState:
    return CrmState(spec.record_types[0], "r42", fields or {}, linked_before=linked,
                    matched_by="link" if linked else "email", **kw)


def kinds(p: Plan) -> list[str]:
    return [op.kind for op in p.operations]


def ids(specs: list[ProviderSpec]) -> list[str]:
    return [s.key for s in specs]
