"""Bulk add from CSV, on a campaign: upload (limits stated) › column mapping suggested from the
headers › a validation report per row › a job adds the valid rows while a self-polling progress bar
shows done / failed / skipped. A file that can't be used is a 422 naming the file input, and
nothing is stored. Team-scoped: another team's campaign or import is a 404."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, request, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from blueprints._htmx import hx_redirect, render_fragment, render_page_or_fragment
from core import db
from models import BulkImport, Campaign
from services import campaigns as campaigns_svc
from services import csv_import, imports

bp = Blueprint("imports", __name__, url_prefix="/campaigns/<int:campaign_id>")

TOO_BIG = (f"The file is larger than {csv_import.MAX_BYTES // 1_048_576} MB. Split it into smaller files "
           f"(at most {csv_import.MAX_ROWS:,} rows each).")


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = campaigns_svc.get_campaign(current_user.team_id, campaign_id)
    if campaign is None:
        abort(404, description="No such campaign in your team.")
    return campaign


def _import_or_404(campaign: Campaign, import_id: int) -> BulkImport:
    bulk = imports.get(current_user.team_id, campaign.id, import_id)
    if bulk is None:
        abort(404, description="No such import in this campaign.")
    return bulk


def _upload_page(campaign: Campaign, status: int = 200, error: str | None = None):
    return render_page_or_fragment("campaigns/import_upload.html", block="upload", status=status,
                                   campaign=campaign, error=error, recent=imports.latest(campaign),
                                   max_mb=csv_import.MAX_BYTES // 1_048_576, max_rows=csv_import.MAX_ROWS)


def _import_page(campaign: Campaign, bulk: BulkImport, status: int = 200, **ctx: Any):
    return render_page_or_fragment(
        "campaigns/import.html", block="step", status=status, campaign=campaign, bulk=bulk,
        targets=csv_import.TARGETS, preview=imports.preview(bulk), counts=imports.problem_counts(bulk),
        shown=bulk.problems[:imports.SHOWN_PROBLEMS], neutralise=csv_import.neutralise,
        errors=ctx.pop("errors", {}), form=ctx.pop("form", None), **ctx)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge):
    """A body over the app's limit is refused while the form is read (before the view, by the CSRF
    check): on the upload, say so next to the file input like any other unusable file."""
    if request.endpoint != "imports.upload" or not current_user.is_authenticated:
        return exc
    return _upload_page(_campaign_or_404(request.view_args["campaign_id"]), 422, TOO_BIG)


@bp.get("/import")
@login_required
def upload_form(campaign_id: int):
    """The upload form, with the limits."""
    return _upload_page(_campaign_or_404(campaign_id))


@bp.post("/import")
@login_required
def upload(campaign_id: int):
    """Read the CSV; 422 with the reason and nothing stored if it can't be used."""
    campaign = _campaign_or_404(campaign_id)
    file = request.files.get("file")
    if file is None or not file.filename:
        return _upload_page(campaign, 422, "Choose a CSV file to upload.")
    data = file.stream.read(csv_import.MAX_BYTES + 1)
    if len(data) > csv_import.MAX_BYTES:
        return _upload_page(campaign, 422, TOO_BIG)
    try:
        bulk = imports.create(current_user, campaign, file.filename, data)
    except imports.CampaignArchived as exc:
        return _upload_page(campaign, 422, str(exc))
    except csv_import.CsvRefused as exc:
        db.session.rollback()
        return _upload_page(campaign, 422, str(exc))
    return hx_redirect(url_for("imports.show", campaign_id=campaign.id, import_id=bulk.id), 303)


@bp.get("/imports/<int:import_id>")
@login_required
def show(campaign_id: int, import_id: int):
    """Where an import stands: mapping, report, or progress."""
    campaign = _campaign_or_404(campaign_id)
    return _import_page(campaign, _import_or_404(campaign, import_id))


@bp.post("/imports/<int:import_id>/mapping")
@login_required
def mapping(campaign_id: int, import_id: int):
    """Check every row under the chosen mapping; show the report (422 for a bad mapping)."""
    campaign = _campaign_or_404(campaign_id)
    bulk = _import_or_404(campaign, import_id)
    try:
        imports.apply_mapping(bulk, campaign, request.form)
    except ValueError as exc:
        db.session.rollback()
        errors = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {"_schema": [str(exc)]}
        return _import_page(campaign, bulk, 422, errors=errors, form=request.form, remap=True)
    return _import_page(campaign, bulk)


@bp.post("/imports/<int:import_id>/start")
@login_required
def start(campaign_id: int, import_id: int):
    """Start adding the valid rows; answer with the progress bar."""
    campaign = _campaign_or_404(campaign_id)
    bulk = _import_or_404(campaign, import_id)
    try:
        started = imports.start(bulk, campaign)
    except imports.CampaignArchived as exc:
        return _import_page(campaign, bulk, 422, errors={"_schema": [str(exc)]})
    if not started:
        return _import_page(campaign, bulk, 409, errors={"_schema": [
            "Nothing to add: no row passed the checks." if not bulk.profiles else "This import already started."]})
    return _import_page(campaign, bulk)


@bp.get("/imports/<int:import_id>/progress")
@login_required
def progress(campaign_id: int, import_id: int):
    """The progress bar; polls itself until the job is done."""
    campaign = _campaign_or_404(campaign_id)
    return render_fragment("campaigns/_import_progress.html", campaign=campaign,
                           bulk=_import_or_404(campaign, import_id))


@bp.get("/imports/<int:import_id>/report.csv")
@login_required
def report(campaign_id: int, import_id: int):
    """The rows that won't be added and why, as CSV (cells neutralised for spreadsheets)."""
    campaign = _campaign_or_404(campaign_id)
    bulk = _import_or_404(campaign, import_id)
    resp = Response(imports.report_csv(bulk), mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'attachment; filename="import-{bulk.id}-report.csv"'
    return resp
