"""Marshmallow schemas for settings, built per CRM from the settings table and what the CRM offers.

A setting the CRM doesn't support can't be set for it (it isn't a field of its schema, and the error
says why), and values are checked against the CRM's own fields, statuses, note types and job
statuses when those are known. Everything arrives as plain data, so this stays pure::

    spec = ProviderSpec("itris", ("applicant", "contact"), caps)
    opts = ProviderOptions("itris", fields={"applicant": ["first_name", "email", "custom:3"]}, ...)
    settings_schema(spec, opts).load({"update_mode.applicant": "if_blank"})   # or ValidationError

Every field is optional and accepts None (= inherit from the layer below).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate

from sync.settings import BY_NAME, NOTE_KINDS, UPDATE_MODES, SettingDef, definitions_for
from sync.types import STANDARD_FIELDS, TRIGGERS, ProviderSpec


@dataclass(frozen=True)
class ProviderOptions:
    """What one connected CRM offers, as ids. A None list means "not known" (e.g. the CRM was
    unreachable): values of that kind are then only type-checked. Per-record-type lists are keyed
    by record type."""
    crm_name: str = "the CRM"
    fields: Mapping[str, Sequence[str]] | None = None
    filterable: Mapping[str, Sequence[str]] | None = None
    statuses: Mapping[str, Sequence[str]] | None = None
    note_types: Mapping[str, Sequence[str]] | None = None
    job_statuses: Sequence[str] | None = None
    tags: Mapping[str, Sequence[str]] | None = None
    lists: Mapping[str, Sequence[str]] | None = None
    jobs: Sequence[str] | None = None          # job ids offered (already filtered by the whitelist)


def filter_jobs(jobs: Iterable[Any], whitelist: Iterable[str] | None) -> list[Any]:
    """Jobs offered to users: those whose `.status` is whitelisted (an empty whitelist offers all)."""
    allowed = set(whitelist or ())
    return [j for j in jobs if not allowed or j.status in allowed]


def _choice(values: Sequence[str] | None) -> fields.String:
    return fields.String(validate=validate.OneOf(list(values)) if values is not None else None)


def _per_type(m: Mapping[str, Sequence[str]] | None, record_type: str | None) -> Sequence[str] | None:
    return None if m is None else list(m.get(record_type or "", ()))


def _field_for(d: SettingDef, opts: ProviderOptions) -> fields.Field:
    rt = d.record_type
    crm_fields = _per_type(opts.fields, rt)
    kw: dict[str, Any] = {"allow_none": True}
    if d.type == "bool":
        return fields.Boolean(**kw)
    if d.type == "trigger":
        return fields.String(validate=validate.OneOf(TRIGGERS), **kw)
    if d.type == "update_mode":
        return fields.String(validate=validate.OneOf(UPDATE_MODES), **kw)
    if d.type == "field_list":
        allowed = _per_type(opts.filterable, rt) if d.name == "filterable_fields" else crm_fields
        return fields.List(_choice(allowed), **kw)
    if d.type == "field_modes":
        return fields.Dict(keys=_choice(crm_fields), values=fields.String(validate=validate.OneOf(UPDATE_MODES)), **kw)
    if d.type == "status":
        return fields.String(validate=validate.OneOf(list(_per_type(opts.statuses, rt)))
                             if opts.statuses is not None else None, **kw)
    if d.type == "event_kinds":
        return fields.List(fields.String(validate=validate.OneOf(NOTE_KINDS)), **kw)
    if d.type == "note_mapping":
        return fields.Dict(keys=fields.String(validate=validate.OneOf(NOTE_KINDS)),
                           values=_choice(_per_type(opts.note_types, rt)), **kw)
    if d.type == "field_mapping":
        variables = list(STANDARD_FIELDS)
        return fields.Dict(keys=_choice(crm_fields),
                           values=fields.String(validate=validate.OneOf(variables + [""]), allow_none=True), **kw)
    if d.type == "job_statuses":
        return fields.List(_choice(opts.job_statuses), **kw)
    raise ValueError(f"setting {d.key} has unknown type {d.type!r}")


def unsupported_reason(key: str, spec: ProviderSpec, crm: str) -> str:
    """Why `key` isn't a setting of this CRM: a record type it lacks, a missing capability, or unknown."""
    if key.startswith("add_"):
        name, rt = "add", key[4:]
    else:
        name, _, rt = key.partition(".")
    d = BY_NAME.get(name)
    if d is None or (d.per_record_type and not rt) or (rt and not d.per_record_type):
        return "Unknown setting."
    if d.per_record_type and rt not in spec.record_types:
        return f"{crm} has no record type {rt!r} (it has {', '.join(spec.record_types)})."
    missing = sorted(d.requires - spec.capabilities)
    return f"Not available for {crm}: its API doesn't support {', '.join(missing)}."


class _StrictSchema(Schema):
    """Rejects keys the CRM doesn't support with a message saying why (not marshmallow's bare
    "Unknown field."). `_spec` and `_crm` are set on each generated subclass."""
    _spec: ProviderSpec
    _crm: str

    @pre_load
    def _reject_unsupported(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, Mapping):
            raise ValidationError("Expected an object of settings.")
        known = {f.data_key or name for name, f in self.fields.items()}
        errors = {k: [self._explain(str(k))] for k in data if k not in known}
        if errors:
            raise ValidationError(errors)
        return data

    @post_load
    def _flat_keys(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        # Setting keys contain dots, which marshmallow would read as nesting; fields are declared
        # under dot-free attribute names with the real key as data_key, and mapped back here.
        return {(self.fields[name].data_key or name): value for name, value in data.items()}

    def _explain(self, key: str) -> str:
        return unsupported_reason(key, self._spec, self._crm)


def settings_schema(spec: ProviderSpec, options: ProviderOptions | None = None) -> Schema:
    """A schema for one settings layer (team, user) of this CRM."""
    opts = options or ProviderOptions()
    attrs: dict[str, Any] = {}
    for key, d in definitions_for(spec).items():
        f = _field_for(d, opts)
        f.data_key = key
        attrs[key.replace(".", "__")] = f
    attrs.update(_spec=spec, _crm=opts.crm_name)
    return type(f"{spec.key.title()}SettingsSchema", (_StrictSchema,), attrs)()


def validate_locks(spec: ProviderSpec, locks: Iterable[str]) -> list[str]:
    """Lock keys must be settings of this CRM; returns them de-duplicated, in order."""
    known = definitions_for(spec)
    bad = {k: ["Unknown setting for this CRM."] for k in locks if k not in known}
    if bad:
        raise ValidationError(bad)
    return list(dict.fromkeys(locks))


def sync_override_schema(spec: ProviderSpec, crm: str = "the CRM") -> Schema:
    """A campaign's advanced "sync override": {"add_<record type>": trigger} only."""
    attrs: dict[str, Any] = {f"add_{rt}": fields.String(validate=validate.OneOf(TRIGGERS), allow_none=True)
                             for rt in spec.record_types} if "create" in spec.capabilities else {}
    attrs.update(_spec=spec, _crm=crm)
    return type(f"{spec.key.title()}SyncOverrideSchema", (_StrictSchema,), attrs)()


_AREAS = {"job_id": "jobs", "job_status": "jobs", "tags": "tags", "lists": "lists", "status": "statuses"}


def sync_options_schema(spec: ProviderSpec, record_type: str, options: ProviderOptions | None = None) -> Schema:
    """A campaign's or person's target areas (rule 9) for one record type: only the areas the CRM
    supports, each value one the CRM offers (job ids from `filter_jobs`, tags, lists, statuses)."""
    opts = options or ProviderOptions()
    candidates: dict[str, fields.Field] = {
        "job_id": fields.String(validate=validate.OneOf(list(opts.jobs)) if opts.jobs is not None else None,
                                allow_none=True),
        "job_status": fields.String(allow_none=True),
        "tags": fields.List(_choice(_per_type(opts.tags, record_type)), allow_none=True),
        "lists": fields.List(_choice(_per_type(opts.lists, record_type)), allow_none=True),
        "status": fields.String(validate=validate.OneOf(list(_per_type(opts.statuses, record_type)))
                                if opts.statuses is not None else None, allow_none=True),
    }
    attrs: dict[str, Any] = {k: f for k, f in candidates.items() if _AREAS[k] in spec.capabilities}
    attrs.update(_spec=spec, _crm=opts.crm_name, _explain=_explain_area)
    return type(f"{spec.key.title()}SyncOptionsSchema", (_StrictSchema,), attrs)()


def _explain_area(self: _StrictSchema, key: str) -> str:
    if key in _AREAS:
        return f"Not available for {self._crm}: its API doesn't support {_AREAS[key]}."
    return "Unknown sync option."


def validate_sync_as(spec: ProviderSpec, value: str | None, crm: str = "the CRM") -> str | None:
    """A campaign's / person's sync-as: a record type of this CRM, "none", or None (inherit)."""
    if value is None or value == "none" or value in spec.record_types:
        return value
    raise ValidationError({"sync_as": [f"{crm} has no record type {value!r}; choose one of "
                                       f"{', '.join(spec.record_types)} or don't sync."]})
