"""Reading a CSV of people for "Bulk add from CSV": decoding, limits, column mapping suggested from the
headers, and a validation report per row. Pure functions over bytes and lists, no database: the
blueprint stores what they return (models.BulkImport) and `services.bulk_add` adds the valid rows.

Limits (stated on the upload page): MAX_BYTES and MAX_ROWS. A file that breaks one, isn't CSV,
is empty or mixes text encodings raises `CsvRefused` with a message for the person uploading it,
and nothing is stored. Cells that a spreadsheet would run as a formula (`=CMD(...)`) are never
imported and are neutralised (`neutralise`) wherever they are shown or exported."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from services.people import linkedin_key

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000

# Our columns, in the order the mapping form shows them. "full_name" is split into first/last.
TARGETS: dict[str, str] = {
    "first_name": "First name", "last_name": "Last name", "full_name": "Full name (split)",
    "email": "Email", "phone": "Phone", "title": "Job title", "company": "Company",
    "location": "Location", "linkedin_url": "LinkedIn URL",
}
MAX_LENGTHS = {"first_name": 100, "last_name": 100, "email": 254, "phone": 50, "title": 200,
               "company": 200, "location": 200, "linkedin_url": 500}
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": ("firstname", "first", "givenname", "forename", "fname"),
    "last_name": ("lastname", "surname", "last", "familyname", "lname"),
    "full_name": ("name", "fullname", "candidatename", "contactname", "person", "candidate", "contact"),
    "email": ("email", "emailaddress", "mail", "workemail", "personalemail", "email1", "primaryemail"),
    "phone": ("phone", "phonenumber", "mobile", "mobilephone", "telephone", "tel", "cell", "mobilenumber"),
    "title": ("title", "jobtitle", "position", "role", "headline", "currenttitle", "currentposition"),
    "company": ("company", "companyname", "employer", "organisation", "organization", "currentcompany",
                "currentemployer", "account"),
    "location": ("location", "city", "town", "region", "address", "country"),
    "linkedin_url": ("linkedin", "linkedinurl", "linkedinprofile", "profileurl", "linkedinprofileurl",
                     "profile", "url"),
}
_CONTAINS = (("email", "email"), ("linkedin", "linkedin_url"), ("phone", "phone"), ("mobile", "phone"),
             ("company", "company"), ("surname", "last_name"), ("lastname", "last_name"),
             ("firstname", "first_name"), ("title", "title"))
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z]{2,}$")
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PHONE = re.compile(r"^\+?[\d\s().-]+$")


class CsvRefused(ValueError):
    """The upload can't be used at all; `str(exc)` is the message shown next to the file input."""


@dataclass
class Parsed:
    header: list[str]
    rows: list[list[str]]
    encoding: str


@dataclass
class RowReport:
    number: int                          # the line number a spreadsheet shows (header = 1)
    profile: dict[str, str]
    problems: list[str] = field(default_factory=list)


@dataclass
class Report:
    rows: list[RowReport]

    @property
    def valid(self) -> list[RowReport]:
        return [r for r in self.rows if not r.problems]

    @property
    def invalid(self) -> list[RowReport]:
        return [r for r in self.rows if r.problems]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.invalid:
            for p in r.problems:
                kind = p.split(":")[0]
                out[kind] = out.get(kind, 0) + 1
        return out


def neutralise(value: Any) -> str:
    """A cell as it is safe to show or export: a leading formula character gets a quote in front."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def is_formula(target: str, value: str) -> bool:
    """Whether a mapped cell would run as a formula. A phone number may start with + or -."""
    if not value.startswith(_FORMULA_START):
        return False
    return not (target == "phone" and _PHONE.match(value))


# -- reading ---------------------------------------------------------------------------------------

def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding used: UTF-8 (with or without BOM), else Windows-1252 (Excel's
    "CSV" on Windows) when no line is UTF-8. A file with both kinds of line is refused."""
    if not data.strip():
        raise CsvRefused("The file is empty.")
    if b"\x00" in data[:65536]:
        raise CsvRefused("This is not a CSV file (it contains binary data). Export your spreadsheet as "
                         "CSV and upload that.")
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    utf8_line = bad_line = None
    for n, line in enumerate(data.splitlines(), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_line = utf8_line or n
        except UnicodeDecodeError:
            bad_line = bad_line or n
        if utf8_line and bad_line:
            raise CsvRefused(f"The file mixes text encodings: line {utf8_line} is UTF-8 but line {bad_line} "
                             "is not. Save it as \"CSV UTF-8\" and upload it again.")
    return data.decode("cp1252", errors="replace"), "Windows-1252"


def parse(data: bytes) -> Parsed:
    """Decode and split a CSV upload into a header and rows, within MAX_BYTES and MAX_ROWS."""
    if len(data) > MAX_BYTES:
        raise CsvRefused(f"The file is {len(data) / 1_048_576:.1f} MB; the limit is "
                         f"{MAX_BYTES // 1_048_576} MB. Split it into smaller files.")
    text, encoding = decode(data)
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect, strict=True)
    try:
        header = next(reader, None)
        rows: list[list[str]] = []
        extra = 0
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(rows) < MAX_ROWS:
                rows.append([cell.strip() for cell in row])
            else:
                extra += 1
    except csv.Error as exc:
        raise CsvRefused(f"This is not a readable CSV file (line {reader.line_num}: {exc}).") from None
    if not header or not any(h.strip() for h in header):
        raise CsvRefused("The file is empty.")
    if extra:
        raise CsvRefused(f"The file has {len(rows) + extra:,} rows; the limit is {MAX_ROWS:,} per upload. "
                         "Split it into smaller files.")
    header = [h.strip() or f"Column {i + 1}" for i, h in enumerate(header)]
    if not any(v is not None for v in suggest_mapping(header).values()):
        raise CsvRefused("This doesn't look like a CSV of people: its first line should name the columns "
                         f"(e.g. First name, Last name, Email), but it reads \"{neutralise(', '.join(header))[:80]}\".")
    if not rows:
        raise CsvRefused("The file has a header row but no people in it.")
    return Parsed(header, rows, encoding)


# -- mapping ---------------------------------------------------------------------------------------

def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def suggest_mapping(header: Sequence[str]) -> dict[str, int | None]:
    """Our column → the index of the CSV column that looks like it (exact synonym first, then a
    header containing a telling word), each CSV column used at most once."""
    taken: set[int] = set()
    out: dict[str, int | None] = {t: None for t in TARGETS}
    normed = [_norm(h) for h in header]
    for target, words in _SYNONYMS.items():
        for i, h in enumerate(normed):
            if i not in taken and h in words:
                out[target] = i
                taken.add(i)
                break
    for word, target in _CONTAINS:
        if out[target] is None:
            for i, h in enumerate(normed):
                if i not in taken and word in h:
                    out[target] = i
                    taken.add(i)
                    break
    if out["first_name"] is not None and out["full_name"] is not None:
        out["full_name"] = None   # first/last columns beat a "Name" column
    return out


def read_mapping(form: Mapping[str, Any], header: Sequence[str]) -> dict[str, int | None]:
    """The mapping the user submitted (`map-<target>` = column index or ""). ValueError: a bad index
    or one CSV column mapped twice."""
    out: dict[str, int | None] = {}
    used: dict[int, str] = {}
    for target in TARGETS:
        raw = (form.get(f"map-{target}") or "").strip()
        if not raw:
            out[target] = None
            continue
        if not raw.isdigit() or int(raw) >= len(header):
            raise ValueError({f"map-{target}": ["Choose one of the file's columns."]})
        idx = int(raw)
        if idx in used:
            raise ValueError({f"map-{target}": [f"\"{header[idx]}\" is already used for {TARGETS[used[idx]]}."]})
        used[idx] = target
        out[target] = idx
    if out["first_name"] is None and out["full_name"] is None:
        raise ValueError({"map-first_name": ["Choose the column with first names (or full names)."]})
    return out


# -- validation ------------------------------------------------------------------------------------

def _profile(row: Sequence[str], mapping: Mapping[str, int | None]) -> dict[str, str]:
    def cell(target: str) -> str:
        i = mapping.get(target)
        return row[i].strip() if i is not None and i < len(row) else ""

    p = {t: cell(t) for t in TARGETS}
    full = " ".join(p.pop("full_name").split())
    if full and not p["first_name"]:
        first, _, last = full.rpartition(" ")
        p["first_name"], p["last_name"] = (first, last) if first else (full, p["last_name"])
    p["email"] = p["email"].lower()
    return p


def validate_rows(rows: Iterable[Sequence[str]], mapping: Mapping[str, int | None],
                  members: tuple[set[str], set[str]] = (set(), set())) -> Report:
    """One RowReport per row. Problems: missing name, bad email, a LinkedIn URL that isn't a profile,
    too long, a formula cell, duplicate of an earlier row (same email or LinkedIn profile), already a
    member of the campaign (`members` = their emails and LinkedIn keys)."""
    member_emails, member_keys = members
    seen: dict[str, int] = {}
    out: list[RowReport] = []
    for n, row in enumerate(rows, start=2):
        p = _profile(row, mapping)
        problems: list[str] = []
        if not p["first_name"]:
            problems.append("missing name")
        if p["email"] and not _EMAIL.match(p["email"]):
            problems.append(f"bad email: {neutralise(p['email'])[:80]}")
        key = linkedin_key(p["linkedin_url"]) if p["linkedin_url"] else None
        if p["linkedin_url"] and key is None:
            problems.append("bad LinkedIn URL: not a linkedin.com/in/ profile")
        formulas = [TARGETS[t] for t, v in p.items() if v and is_formula(t, v)]
        if formulas:
            problems.append(f"formula: {', '.join(formulas)} would run as a spreadsheet formula")
        long = [TARGETS[t] for t, v in p.items() if len(v) > MAX_LENGTHS[t]]
        if long:
            problems.append(f"too long: {', '.join(long)}")
        ids = [i for i in (p["email"] and "e:" + p["email"], key and "l:" + key) if i]
        earlier = next((seen[i] for i in ids if i in seen), None)
        if earlier is not None:
            problems.append(f"duplicate: same person as row {earlier}")
        elif (p["email"] and p["email"] in member_emails) or (key and key in member_keys):
            problems.append("already a member: already in this campaign")
        for i in ids:
            seen.setdefault(i, n)
        out.append(RowReport(n, p, problems))
    return Report(out)
