"""The web side of "Bulk add from CSV": store an upload, apply the chosen column mapping (the
validation report), export the report, and start the job (`services.bulk_add`). Team-scoped: an
import is found only through its campaign in the user's team.

Nothing is stored for a file `services.csv_import` refuses, and a mapping that doesn't validate
changes nothing: the import stays as it was."""
from __future__ import annotations

import csv
import io
from typing import Any, Mapping

from sqlalchemy import select

from core import db
from models import BulkImport, Campaign, Enrolment, Person, User
from services import bulk_add, csv_import

PREVIEW_ROWS = 5
SHOWN_PROBLEMS = 200
ARCHIVED = "This campaign is archived: restore it to add people."


class CampaignArchived(Exception):
    """An archived campaign takes no new members, so no import into it (upload, start or job)."""

    def __init__(self) -> None:
        super().__init__(ARCHIVED)


def _refuse_archived(campaign: Campaign) -> None:
    if campaign.archived_at is not None:
        raise CampaignArchived()


def create(user: User, campaign: Campaign, filename: str, data: bytes) -> BulkImport:
    """Read the upload (CsvRefused, CampaignArchived: nothing stored) and store it with the
    suggested mapping."""
    _refuse_archived(campaign)
    parsed = csv_import.parse(data)
    suggested = csv_import.suggest_mapping(parsed.header)
    bulk = BulkImport(team_id=user.team_id, campaign_id=campaign.id, created_by_id=user.id,
                      filename=(filename or "upload.csv")[:255], encoding=parsed.encoding, header=parsed.header,
                      rows=parsed.rows, mapping={k: v for k, v in suggested.items() if v is not None},
                      profiles=[], problems=[], state="uploaded")
    db.session.add(bulk)
    db.session.commit()
    return bulk


def get(team_id: int, campaign_id: int, import_id: int) -> BulkImport | None:
    return db.session.scalars(select(BulkImport).where(
        BulkImport.id == import_id, BulkImport.campaign_id == campaign_id, BulkImport.team_id == team_id)).first()


def latest(campaign: Campaign) -> list[BulkImport]:
    return list(db.session.scalars(select(BulkImport).where(BulkImport.campaign_id == campaign.id)
                                   .order_by(BulkImport.id.desc()).limit(5)))


def _members(campaign: Campaign) -> tuple[set[str], set[str]]:
    rows = db.session.execute(select(Person.email, Person.linkedin_key).join(
        Enrolment, Enrolment.person_id == Person.id).where(Enrolment.campaign_id == campaign.id)).all()
    return ({e for e, _k in rows if e}, {k for _e, k in rows if k})


def apply_mapping(bulk: BulkImport, campaign: Campaign, form: Mapping[str, Any]) -> csv_import.Report:
    """Validate every row under the submitted mapping and store the report. ValueError({field: [..]})
    for a bad mapping (nothing changes). Only an import not started yet can be re-mapped."""
    if bulk.state not in ("uploaded", "validated"):
        raise ValueError({"_schema": ["This import has already started."]})
    mapping = csv_import.read_mapping(form, bulk.header)
    report = csv_import.validate_rows(bulk.rows, mapping, _members(campaign))
    bulk.mapping = {k: v for k, v in mapping.items() if v is not None}
    bulk.profiles = [r.profile for r in report.valid]
    bulk.problems = [[r.number, r.problems, {t: v for t, v in r.profile.items() if v}] for r in report.invalid]
    bulk.state = "validated"
    db.session.commit()
    return report


def start(bulk: BulkImport, campaign: Campaign) -> bool:
    """Queue the job that adds the valid rows. False if it was already started or nothing is valid;
    CampaignArchived if the campaign was archived since the upload."""
    _refuse_archived(campaign)
    if bulk.state != "validated" or not bulk.profiles:
        return False
    bulk_add.start(bulk)
    return True


def preview(bulk: BulkImport) -> list[list[str]]:
    """The first rows as they are safe to show."""
    return [[csv_import.neutralise(c) for c in row] for row in bulk.rows[:PREVIEW_ROWS]]


def problem_counts(bulk: BulkImport) -> dict[str, int]:
    out: dict[str, int] = {}
    for _n, problems, _cells in bulk.problems or []:
        for p in problems:
            kind = p.split(":")[0]
            out[kind] = out.get(kind, 0) + 1
    return out


def report_csv(bulk: BulkImport) -> str:
    """The rows that won't be added, with why, as CSV; every cell neutralised for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out)
    targets = [t for t in csv_import.TARGETS if t != "full_name"]
    writer.writerow(["Line", "Problems", *[csv_import.TARGETS[t] for t in targets]])
    for number, problems, cells in bulk.problems or []:
        writer.writerow([number, csv_import.neutralise("; ".join(problems)),
                         *[csv_import.neutralise(cells.get(t, "")) for t in targets]])
    return out.getvalue()
