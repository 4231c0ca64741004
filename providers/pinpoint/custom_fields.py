"""Pinpoint custom fields (`custom:<custom field id>`) on an application or its candidate.

Definitions `GET /custom_fields` (`name`, `resource_type`, `field_type`) with options from
`GET /custom_field_options`; values are `custom_attributes` resources, polymorphic on
`custom_attributable_type` + `custom_attributable_id` (API-FACTS §5.2, PP-MAP). The write shape
(`POST /custom_attributes` with a `custom_field` relationship, `PATCH` to change, a single-select value
being the option's name) is [inferred]: listed in provider.py's ASSUMED block."""
from __future__ import annotations

from typing import Any

from providers.errors import Rejected
from providers.pinpoint import mappers as m
from providers.pinpoint.client import PinpointClient
from providers.types import FieldDef, Option

OWNERS = ("Application", "Candidate")          # resource types whose fields we offer on an application
TYPES = {"text": "text", "number": "number", "boolean": "bool", "date": "date", "single_select": "select"}
TRUE_WORDS, FALSE_WORDS = {"true", "yes", "y", "1", "on"}, {"false", "no", "n", "0", "off"}


class CustomFields:
    def __init__(self, client: PinpointClient, page_size: int):
        self.client = client
        self.page_size = page_size

    def definitions(self) -> dict[str, tuple[dict[str, Any], list[str]]]:
        """{custom field id: (resource, option names)}: two calls, whatever the number of fields."""
        fields = [f for f, _ in self.client.iterate("/custom_fields", None, size=self.page_size)
                  if (f.get("attributes") or {}).get("resource_type") in OWNERS]
        options: dict[str, list[str]] = {}
        if any((f["attributes"].get("field_type") == "single_select") for f in fields):
            for opt, _ in self.client.iterate("/custom_field_options", None, size=self.page_size):
                owner = m.related_id(opt, "custom_field")
                options.setdefault(str(owner), []).append(str((opt.get("attributes") or {}).get("name")))
        return {str(f["id"]): (f, options.get(str(f["id"]), [])) for f in fields}

    def field_defs(self) -> list[FieldDef]:
        out = []
        for fid, (f, opts) in self.definitions().items():
            attrs = f["attributes"]
            out.append(FieldDef(key=f"custom:{fid}", label=str(attrs.get("name") or fid), custom=True,
                                type=TYPES.get(str(attrs.get("field_type")), "text"),
                                options=tuple(Option(o, o) for o in opts)))
        return out

    def prepare(self, custom: dict[str, Any]) -> list[tuple[str, str, Any]]:
        """[(field id, owner type, JSON value)], or Rejected naming every bad field before any write."""
        custom = {k: v for k, v in custom.items() if v not in (None, "")}
        if not custom:
            return []
        defs = self.definitions()
        out, errors = [], {}
        for key, value in custom.items():
            fid = key.split(":", 1)[1]
            if fid not in defs:
                errors[key] = "unknown custom field"
                continue
            field, opts = defs[fid]
            try:
                out.append((fid, field["attributes"]["resource_type"], typed(field, opts, value)))
            except ValueError as exc:
                errors[key] = str(exc)
        if errors:
            raise Rejected("Pinpoint refused custom field values", field_errors=errors)
        return out

    def read(self, app_id: str, candidate_id: str | None, app_type: str = "Application") -> dict[str, dict[str, Any]]:
        """{custom field id: custom_attribute resource} for the application (or job seeker,
        `app_type="JobSeeker"`) and its candidate (one call)."""
        owners = {(app_type, str(app_id))} | ({("Candidate", str(candidate_id))} if candidate_id else set())
        ids = ",".join(sorted({i for _, i in owners}))
        out = {}
        for attr, _ in self.client.iterate("/custom_attributes", {"filter[custom_attributable_id]": ids},
                                           size=self.page_size):
            a = attr.get("attributes") or {}
            if (a.get("custom_attributable_type"), str(a.get("custom_attributable_id"))) in owners:
                out[str(m.related_id(attr, "custom_field"))] = attr
        return out

    def values(self, app_id: str, candidate_id: str | None, app_type: str = "Application") -> dict[str, Any]:
        return {f"custom:{fid}": (a.get("attributes") or {}).get("value")
                for fid, a in self.read(app_id, candidate_id, app_type).items()}

    def write(self, app_id: str, candidate_id: str | None, prepared: list[tuple[str, str, Any]],
              existing: dict[str, dict[str, Any]] | None = None, app_type: str = "Application") -> None:
        """Write values; an Application-owned field of a job seeker goes on the job seeker itself."""
        if not prepared:
            return
        if existing is None:
            existing = self.read(app_id, candidate_id, app_type)
        for fid, owner, value in prepared:
            if fid in existing:
                attr_id = str(existing[fid]["id"])
                self.client.document("PATCH", f"/custom_attributes/{attr_id}",
                                     data=m.resource("custom_attributes", {"value": value}, id=attr_id))
                continue
            target = app_id if owner == "Application" else candidate_id
            if not target:
                raise Rejected(f"custom field {fid} belongs to the candidate, who is unknown here")
            owner = app_type if owner == "Application" else owner
            data = m.resource("custom_attributes", {"value": value, "custom_attributable_type": owner,
                                                    "custom_attributable_id": str(target)},
                              relationships={"custom_field": m.rel("custom_fields", fid)})
            self.client.document("POST", "/custom_attributes", data=data)


def typed(field: dict[str, Any], options: list[str], value: Any) -> Any:
    kind = str(field["attributes"].get("field_type") or "text")
    text = str(value).strip()
    if kind == "number":
        try:
            num = float(text.replace(",", ""))
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        return int(num) if num.is_integer() else num
    if kind == "boolean":
        if text.lower() not in TRUE_WORDS | FALSE_WORDS:
            raise ValueError(f"{value!r} is not yes/no")
        return text.lower() in TRUE_WORDS
    if kind == "single_select":
        match = [o for o in options if o.lower() == text.lower()]
        if not match:
            raise ValueError(f"{value!r} is not one of {', '.join(options)}")
        return match[0]
    return text
