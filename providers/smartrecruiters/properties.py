"""SmartRecruiters candidate properties: our custom fields (`custom:<property id>`).

Definitions `GET /configuration/candidate-properties` (+ `/{id}/values` for select options), values
`GET /candidates/{id}/properties` and `PUT /candidates/{id}/properties/{propertyId}` `{"value": ...}`
(API-FACTS §2.2, SRPY CandidatesApi/ConfigurationApi)."""
from __future__ import annotations

from typing import Any

from providers.errors import NotFound, Rejected
from providers.smartrecruiters import mappers as m
from providers.smartrecruiters.client import SmartRecruitersClient


class CandidateProperties:
    def __init__(self, client: SmartRecruitersClient):
        self.client = client

    def definitions(self) -> dict[str, dict[str, Any]]:
        body = self.client.json("GET", "/configuration/candidate-properties") or {}
        props = (body.get("content") or []) if isinstance(body, dict) else body
        return {str(p["id"]): p for p in props}

    def options(self, prop: dict[str, Any]) -> list[dict[str, Any]]:
        """Option values of a select property (one call each; only select properties have them)."""
        if str(prop.get("type") or "").upper() not in m.SELECT_TYPES:
            return []
        body = self.client.json("GET", f"/configuration/candidate-properties/{prop['id']}/values") or {}
        return list((body.get("content") or body.get("values") or []) if isinstance(body, dict) else body)

    def read(self, remote_id: str) -> list[dict[str, Any]]:
        try:
            body = self.client.json("GET", f"/candidates/{remote_id}/properties") or {}
        except NotFound:
            return []   # an account without candidate properties answers 404 here
        return list(body.get("content") or []) if isinstance(body, dict) else list(body)

    def prepare(self, custom: dict[str, Any]) -> dict[str, Any]:
        """Type each custom value per its property definition, or refuse them all (Rejected) before
        anything is written. Returns {property id: JSON value}; no call when there is nothing."""
        custom = {k: v for k, v in custom.items() if v not in (None, "")}
        if not custom:
            return {}
        defs = self.definitions()
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for key, value in custom.items():
            prop = defs.get(key[len(m.CUSTOM_PREFIX):])
            if prop is None:
                errors[key] = "unknown candidate property"
                continue
            try:
                values[str(prop["id"])] = m.property_value_out(prop, value, self.options(prop))
            except ValueError as exc:
                errors[key] = str(exc)
        if errors:   # refuse before writing any, so nothing is written half-way
            raise Rejected("SmartRecruiters refused candidate property values", field_errors=errors)
        return values

    def put(self, remote_id: str, values: dict[str, Any]) -> None:
        for prop_id, value in values.items():
            self.client.json("PUT", f"/candidates/{remote_id}/properties/{prop_id}", json={"value": value})
