"""The sync engine's vocabulary: plain dataclasses in, plain dataclasses out (DESIGN §4, §5).

The runtime (services/push/runner.py) loads rows, turns them into these types, and calls the
planner twice per intent:

    plan1 = planner.plan(event, settings, person, target, None, capabilities=caps, intent_key=k)
    if plan1.needs_lookup:                      # first op is `lookup`: go and look in the CRM
        state = CrmState(...)                   # from CrmLink + get(), or find_person(); off_limits, has_cv
        plan2 = planner.plan(event, settings, person, target, state, capabilities=caps, intent_key=k)
        for op in plan2.operations: ...         # apply in order through the adapter, audit each one

Public functions (signatures are the contract; bodies land in the named modules):

    sync.settings.resolve(definitions, layers: Mapping[str, Mapping[str, Any]], locks: Iterable[str])
        -> ResolvedSettings            # layers keyed by LAYERS names; locks = team-locked keys
    sync.settings.definitions_for(spec: ProviderSpec) -> dict[str, SettingDef]
    sync.planner.resolve_target(campaign_sync_as, campaign_options, person_sync_as, person_options,
                                record_types) -> Target
    sync.planner.plan(event: EventInfo, settings: ResolvedSettings, person: PersonInfo, target: Target,
                      crm_state: CrmState | None, *, capabilities, intent_key: str) -> Plan
    sync.planner.backfill_notes(waiting: list[WaitingNote], settings, record_type: str,
                                remote_id: str | None, *, capabilities) -> list[Operation]
    sync.planner.with_backfill(operations, backfill) -> tuple[Operation, ...]   # before the own note
    sync.planner.email_step(settings, person, record_type, crm_state | None, *, capabilities,
                            intent_key) -> Plan
    sync.preview.preview(...)  ·  sync.retry.backoff(attempt, ...) / MAX_ATTEMPTS

Nothing here imports Flask, requests, Redis, SQLAlchemy or `providers`: capabilities and record
types arrive as plain strings (`Capability.value`, `RecordType.key`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, Iterable, Mapping

# Settings layers, lowest precedence first (DESIGN §4). "person" = the override from the extension.
LAYERS: tuple[str, ...] = ("provider", "team", "user", "campaign", "person")

# Add-to-CRM triggers (the "Add <record type> to CRM" setting), and the event kind that fires each.
TRIGGERS: tuple[str, ...] = ("added", "reply", "interested", "never")

EVENT_KINDS: tuple[str, ...] = ("added", "email_sent", "linkedin_sent", "call", "reply", "interested",
                                "not_interested", "bounced", "opted_out", "manual_update", "cv_added", "resync")

STANDARD_FIELDS: tuple[str, ...] = (
    "first_name", "last_name", "email", "phone", "title", "company", "location", "linkedin_url",
)

# Operation kinds the executor must know how to apply (one adapter call each, except the last five).
OP_LOOKUP = "lookup"          # params: email, linkedin_url. Runtime builds a CrmState, then re-plans.
OP_CREATE = "create"          # fields → adapter.create(record_type, fields)
OP_UPDATE = "update"          # fields → adapter.update(record_type, remote_id, fields); fields_before
OP_LINK = "link"              # record the CrmLink person → remote_id (no CRM call)
OP_ADD_NOTE = "add_note"      # params: body, note_type (None = untyped), event_id
OP_ADD_TO_JOB = "add_to_job"  # params: job_id, job_status (None)
OP_APPLY_TAGS = "apply_tags"  # params: tags (list)
OP_ADD_TO_LIST = "add_to_list"  # params: list_id
OP_SET_STATUS = "set_status"  # params: status
OP_UPLOAD_CV = "upload_cv"    # the runtime supplies the file (PersonInfo.cv_available said one exists)
OP_WAIT = "wait"              # nothing to do yet; intent → waiting, reason shown
OP_REFUSE = "refuse"          # refused (e.g. mandatory fields missing); params: missing (list)
OP_BLOCK = "block"            # email step blocked (off-limits); reason shown on the step
OP_SKIP = "skip"              # event means nothing for the CRM
OP_KINDS: tuple[str, ...] = (OP_LOOKUP, OP_CREATE, OP_UPDATE, OP_LINK, OP_ADD_NOTE, OP_ADD_TO_JOB,
                             OP_APPLY_TAGS, OP_ADD_TO_LIST, OP_SET_STATUS, OP_UPLOAD_CV, OP_WAIT,
                             OP_REFUSE, OP_BLOCK, OP_SKIP)
# Ops that call the CRM (and so go through the AppliedOperation ledger); the rest are bookkeeping.
CRM_OPS: frozenset[str] = frozenset({OP_CREATE, OP_UPDATE, OP_ADD_NOTE, OP_ADD_TO_JOB, OP_APPLY_TAGS,
                                     OP_ADD_TO_LIST, OP_SET_STATUS, OP_UPLOAD_CV})

class IntentState(StrEnum):
    """Where a sync intent stands (SyncIntent.state). Open: pending → queued → running; final:
    synced | skipped | parked; `waiting` is open too (a trigger, a record or a field it waits for)."""
    PENDING = "pending"      # written, not yet handed to the queue
    QUEUED = "queued"        # a job is queued or scheduled for it
    RUNNING = "running"      # a worker claimed it
    SYNCED = "synced"
    SKIPPED = "skipped"
    WAITING = "waiting"
    PARKED = "parked"        # gave up or refused for good; a person can retry it


FINAL_STATES: frozenset[str] = frozenset({IntentState.SYNCED, IntentState.SKIPPED, IntentState.PARKED})

# Plan outcomes → what the runtime does with the intent.
PUSH = "push"          # record created/updated (+ target areas, notes): intent → synced
NOTE = "note"          # only a note to an existing record: intent → synced
WAIT = "wait"          # nothing now, may go later (trigger not yet fired, note waiting): → waiting
REFUSED = "refused"    # mandatory fields missing: → waiting, reason names the fields; re-plan on edit
SKIPPED = "skipped"    # nothing to do, ever: → skipped
BLOCKED = "blocked"    # email step to an off-limits person: step shown blocked with the reason
SEND = "send"          # email step allowed (only from planner.email_step)
OUTCOMES: tuple[str, ...] = (PUSH, NOTE, WAIT, REFUSED, SKIPPED, BLOCKED, SEND)


def capability_set(capabilities: Iterable[Any]) -> frozenset[str]:
    """Normalise Capability enum members (or plain strings) to their string values."""
    return _normalised(frozenset(capabilities))   # frozenset() of a frozenset is the same object


@lru_cache(maxsize=64)
def _normalised(capabilities: frozenset[Any]) -> frozenset[str]:
    # Every plan normalises its CRM's set: once per set and process, not once per push.
    return frozenset(str(getattr(c, "value", c)) for c in capabilities)


@dataclass(frozen=True)
class ProviderSpec:
    """What sync/ needs to know about a CRM, as plain data (no import of `providers`)."""
    key: str
    record_types: tuple[str, ...]
    capabilities: frozenset[str]

    @classmethod
    def from_provider(cls, provider_cls: Any) -> "ProviderSpec":
        """Build from a registered adapter class (duck-typed: key, record_types, capabilities)."""
        return cls(key=provider_cls.key,
                   record_types=tuple(getattr(rt, "key", rt) for rt in provider_cls.record_types),
                   capabilities=capability_set(provider_cls.capabilities))

    def supports(self, capability: str) -> bool:
        return capability in self.capabilities


@dataclass(frozen=True)
class SettingValue:
    """One resolved setting: its value, the layer it came from, and whether the admin locked it."""
    value: Any
    layer: str
    locked: bool = False


@dataclass(frozen=True)
class ResolvedSettings:
    """Every setting of one provider after layering (see sync.settings.resolve).

    Per-record-type settings are stored under "<name>.<record type>" (e.g. "update_mode.candidate"),
    except the trigger, stored as "add_<record type>" (the key the UI and Campaign.sync_override use)."""
    values: Mapping[str, SettingValue] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        sv = self.values.get(key)
        return default if sv is None else sv.value

    def layer(self, key: str) -> str | None:
        sv = self.values.get(key)
        return None if sv is None else sv.layer

    def flag(self, key: str) -> bool:
        return bool(self.get(key, False))

    def trigger(self, record_type: str) -> str:
        """When `record_type` is added to the CRM: added | reply | interested | never."""
        return str(self.get(f"add_{record_type}", "never"))

    def for_type(self, name: str, record_type: str, default: Any = None) -> Any:
        return self.get(f"{name}.{record_type}", default)

    def update_mode(self, record_type: str, field_key: str) -> str:
        """"always" or "if_blank" for one field: the per-field override, else the record type's mode."""
        per_field = self.for_type("update_mode_fields", record_type, None) or {}
        return str(per_field.get(field_key) or self.for_type("update_mode", record_type, "if_blank"))

    def note_type(self, record_type: str, event_kind: str) -> str | None:
        """The CRM note type id mapped to an outreach kind, or None (the note goes untyped)."""
        mapping = self.for_type("note_mapping", record_type, None) or {}
        return mapping.get(event_kind) or None


@dataclass(frozen=True)
class EventInfo:
    """An outreach event (OutreachEvent row). For manual_update, `data` = {field: new value}."""
    kind: str
    occurred_at: datetime
    event_id: int | None = None
    body: str | None = None
    channel: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PersonInfo:
    """Our values for a person (Person row); `extra` holds CRM field values tagged in the panel,
    keyed by the CRM's field key. `cv_available`: we hold a CV file the runtime can upload."""
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    title: str | None = None
    company: str | None = None
    location: str | None = None
    linkedin_url: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    cv_available: bool = False

    def value(self, key: str) -> Any:
        """Our value for a standard field or an extra CRM field key (None if we have none)."""
        if key in STANDARD_FIELDS:
            return getattr(self, key)
        return self.extra.get(key)

    def values(self) -> dict[str, Any]:
        """Standard fields then extras, by key."""
        out: dict[str, Any] = {k: getattr(self, k) for k in STANDARD_FIELDS}
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class SyncOptions:
    """Target areas applied on push (rule 9): job/pipeline (+ its status), tags, lists, status."""
    job_id: str | None = None
    job_status: str | None = None
    tags: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    status: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "SyncOptions":
        data = data or {}
        return cls(job_id=_opt_str(data.get("job_id")), job_status=_opt_str(data.get("job_status")),
                   tags=tuple(str(t) for t in data.get("tags") or ()),
                   lists=tuple(str(x) for x in data.get("lists") or ()),
                   status=_opt_str(data.get("status")))

    def is_empty(self) -> bool:
        return not (self.job_id or self.tags or self.lists or self.status)


def _opt_str(v: Any) -> str | None:
    return None if v in (None, "") else str(v)


@dataclass(frozen=True)
class Target:
    """What the person is synced as: `record_type` None means "don't sync".

    Built by sync.planner.resolve_target (person's sync-as beats the campaign's). `source` is the
    layer the record type came from ("person" or "campaign"); `options_source` likewise.
    `reason` explains a None record type ("Set to don't sync", or a type this CRM doesn't have)."""
    record_type: str | None
    sync_options: SyncOptions = field(default_factory=SyncOptions)
    source: str = "campaign"
    options_source: str = "campaign"
    reason: str = ""


@dataclass(frozen=True)
class CrmState:
    """What the runtime found in the CRM after a `lookup` op.

    remote_id None = no match (create). `linked_before` = a CrmLink already pointed at this record
    (we created or linked it on an earlier run); `matched_by` = "link" | "email" | "linkedin_url".
    `fields` are current CRM values by our field keys (adapter.get / find_person). `off_limits` and
    `has_cv` are only meaningful if the provider has those capabilities."""
    record_type: str
    remote_id: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    off_limits: bool = False
    off_limits_reason: str | None = None
    has_cv: bool = False
    linked_before: bool = False
    matched_by: str | None = None


@dataclass(frozen=True)
class Operation:
    """One step for the executor. `key` is the idempotency key (stable across re-runs of the same
    intent with the same inputs): the executor records it in AppliedOperation and never repeats a
    `done` key. `rule` names the DESIGN §5 rule that caused it (written to the audit log).

    `remote_id` is None for ops following a `create` in the same plan: use the id create returned."""
    kind: str
    key: str
    rule: str
    record_type: str | None = None
    remote_id: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    fields_before: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class Plan:
    """The planner's answer. `reason` is a sentence for users (panel, campaign page, audit log).

    `backfill` = the record now exists (create/link ops): the runtime runs planner.backfill_notes
    for this person's waiting note events and applies them with this plan, before its own note
    (planner.with_backfill), so the notes reach the CRM in the order the events happened."""
    outcome: str
    reason: str
    operations: tuple[Operation, ...] = ()
    record_type: str | None = None
    missing_fields: tuple[str, ...] = ()
    backfill: bool = False

    @property
    def needs_lookup(self) -> bool:
        return bool(self.operations) and self.operations[0].kind == OP_LOOKUP

    @property
    def crm_operations(self) -> tuple[Operation, ...]:
        return tuple(op for op in self.operations if op.kind in CRM_OPS)


@dataclass(frozen=True)
class WaitingNote:
    """A note event that waited for its record (rule 5), with the key of the intent it belongs to
    and, when they differ from the back-filling push's, the settings its own run would resolve
    (another recruiter's personal "Create new notes from", say): the note is made as its run would."""
    intent_key: str
    event: EventInfo
    settings: ResolvedSettings | None = None
