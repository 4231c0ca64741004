"""Pure helpers adapters use to match CRM rows locally, because CRM searches are fuzzy (CATS keyword
search matches any word, Tracker may ignore text filters altogether): a search narrows the rows,
these functions decide which row is really the person or the company."""
from __future__ import annotations

import re
from typing import Any, Iterable

from rapidfuzz import fuzz

_LINKEDIN = re.compile(r"linkedin\.com/(in|pub)/([^/?#\s]+)", re.I)
# Legal-form words that make "Acme Ltd" and "ACME Limited" look different to a substring search.
_LEGAL_FORMS = {
    "ltd", "limited", "plc", "llc", "llp", "inc", "incorporated", "corp", "corporation", "co", "company",
    "gmbh", "ag", "sa", "sas", "srl", "bv", "nv", "pty", "group", "holdings", "the",
}


def same_email(a: Any, b: Any) -> bool:
    """Emails compare case-insensitively, ignoring surrounding blanks; blanks never match."""
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    a, b = a.strip().lower(), b.strip().lower()
    return bool(a) and a == b


def linkedin_key(url: Any) -> str | None:
    """`https://www.linkedin.com/in/Ada-L/?x=1` → `in/ada-l`; None for anything that isn't a profile URL."""
    if not isinstance(url, str):
        return None
    m = _LINKEDIN.search(url)
    return f"{m.group(1).lower()}/{m.group(2).lower()}" if m else None


def linkedin_search_text(url: str) -> str:
    """`linkedin.com/in/<slug>`: a substring of every spelling of that profile URL (scheme, `www.`,
    trailing slash, query), so a substring search finds it however the CRM stored it."""
    key = linkedin_key(url)
    return f"linkedin.com/{key}" if key else url.strip()


def same_linkedin(a: Any, b: Any) -> bool:
    key = linkedin_key(a)
    return key is not None and key == linkedin_key(b)


def first_linkedin(urls: Iterable[Any]) -> str | None:
    """The first LinkedIn profile URL in a list of URLs (strings or `{"url": ...}` objects)."""
    for u in urls or ():
        if isinstance(u, dict):
            u = u.get("url") or u.get("value")
        if linkedin_key(u):
            return str(u)
    return None


def company_words(name: str) -> list[str]:
    """Lower-case words of a company name without punctuation and legal forms."""
    words = re.findall(r"[\w&]+", (name or "").lower())
    core = [w for w in words if w not in _LEGAL_FORMS]
    return core or words


def company_query(name: str) -> str:
    """The text to send to a substring company search so near-duplicates come back too."""
    return " ".join(company_words(name)) or (name or "").strip()


def same_company(a: str | None, b: str | None) -> bool:
    """Exactly the same company name, ignoring case and spacing (not near-duplicates)."""
    norm = lambda s: " ".join((s or "").lower().split())  # noqa: E731
    return bool(norm(a)) and norm(a) == norm(b)


def company_similarity(a: str, b: str) -> float:
    """0–100: how alike two company names are once legal forms are dropped."""
    return float(fuzz.token_sort_ratio(" ".join(company_words(a)), " ".join(company_words(b))))


def rank_companies(name: str, rows: list[tuple[Any, str]], threshold: float = 60.0) -> list[Any]:
    """Items of `(item, company name)` whose name resembles `name`, most similar first."""
    # Ties on the core name ("Acme Ltd" / "ACME Limited") go to the closer full spelling.
    scored = [(company_similarity(name, n), fuzz.ratio(name.lower(), (n or "").lower()), i, item)
              for i, (item, n) in enumerate(rows)]
    ranked = sorted(scored, key=lambda t: (-t[0], -t[1], t[2]))
    return [item for core, _, _, item in ranked if core >= threshold]


def match_company(name: str | None, rows: Iterable[tuple[Any, str]]) -> Any | None:
    """The CRM company a person's company names, from `(item, company name)` rows the CRM returned
    for `company_query(name)`: the exact name (`same_company`) if there is one, else the only company
    whose name differs just by legal form and punctuation ("Globex Corp" / "Globex Corporation").
    Two or more of those ("Acme Ltd", "ACME Limited") is ambiguous: None, never a silent guess (the
    panel's company warning lets the recruiter pick); a merely similar name ("Initek") never matches."""
    rows = list(rows)
    exact = [item for item, n in rows if same_company(n, name)]
    if exact:
        return exact[0]
    core = company_words(name or "")
    same_core = [item for item, n in rows if core and company_words(n or "") == core]
    return same_core[0] if len(same_core) == 1 else None
