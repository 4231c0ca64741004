"""The panel's company decision (the "Displayed company info" and "Displayed company warning"
settings): given the person's company and the companies the CRM returned for it, which one is
the same company, and which are near-duplicates a push might be about to add another of.

Matching (documented in docs/extension.md, "Company info and the duplicate warning"):
- names are normalised by `providers.matching.company_words`: lower case, punctuation dropped,
  legal forms and filler words ("Ltd", "Limited", "plc", "Inc", "GmbH", "Group", "Holdings", "The",
  ...) removed, so "Acme Ltd" and "ACME Limited" are both "acme";
- the same company = the same normalised name and the same spelling apart from case and spaces
  (`same_company`): that is the record the CRM links to, nothing new is created;
- a near-duplicate = rapidfuzz `token_sort_ratio` of the normalised names >= WARNING_THRESHOLD
  (0-100) without being the same company, e.g. "Acme" vs "Acme Ltd" (100) or "Globex Corp" vs
  "Globex Corporation" (100) or "Initech" vs "Initek" (77), but not "Acme" vs "Acme Analytics" (44).
The recruiter may then pick one of the CRM's names: the push uses that exact name, so the CRM's
adapter links the existing company instead of creating another."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from providers.matching import company_similarity, same_company

WARNING_THRESHOLD = 75.0
MAX_SHOWN = 5


@dataclass(frozen=True)
class CompanyDecision:
    name: str                                      # the company the push will name
    exact: Mapping[str, Any] | None = None         # the CRM company with that very name
    similar: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)   # near-duplicates
    chosen: bool = False                           # the recruiter picked a CRM company

    @property
    def warns(self) -> bool:
        """A push would name a company the CRM doesn't have while similar ones exist."""
        return self.exact is None and bool(self.similar)

    def sentence(self, crm: str) -> str:
        if not self.name:
            return ""
        if self.exact is not None:
            how = "chosen" if self.chosen else "matched"
            return f"Company: {self.exact['name']} ({how}, an existing {crm} company)"
        if self.similar:
            names = ", ".join(c["name"] for c in self.similar)
            return f"Company: {self.name}, not in {crm}; similar names there: {names}"
        return f"Company: {self.name} (not found in {crm})"


def decide(name: str | None, companies: Sequence[Mapping[str, Any]] | None, chosen: bool = False) -> CompanyDecision:
    """`companies` are cached `{"id", "name", "details"}` rows the CRM's company search returned."""
    name = (name or "").strip()
    if not name:
        return CompanyDecision("")
    exact = next((c for c in companies or () if same_company(c.get("name"), name)), None)
    scored = sorted(((company_similarity(name, str(c.get("name") or "")), i, c)
                     for i, c in enumerate(companies or ()) if c is not exact), key=lambda t: (-t[0], t[1]))
    similar = tuple(c for score, _i, c in scored if score >= WARNING_THRESHOLD)[:MAX_SHOWN]
    return CompanyDecision(name, exact, similar, chosen and exact is not None)
