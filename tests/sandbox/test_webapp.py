"""Each sandbox's stand-in for its CRM's web app: a read-only page per record at the path the
sandbox assumes the real app uses, escaped, 404 for an unknown record, and not counted as an API
call (no rate window, no faults)."""
from __future__ import annotations

import importlib

import pytest

from sandbox.common import sandbox_of

PAGES = [
    # sandbox, table, row, path of the row's page ({id}: its id), heading
    ("cats", "candidates", {"first_name": "Ada<script>"}, "/index.php?m=candidates&a=show&candidateID={id}", "Candidate"),
    ("cats", "contacts", {"first_name": "Ada<script>"}, "/index.php?m=contacts&a=show&contactID={id}", "Contact"),
    ("cats", "companies", {"name": "Acme<script>"}, "/index.php?m=companies&a=show&companyID={id}", "Company"),
    ("tracker", "clients", {"clientName": "Acme<script>"}, "/Client/{id}", "Client"),
    ("itris", "companies", {"name": "Acme<script>"}, "/companies/{id}", "Company"),
    ("tracker", "resources", {"firstName": "Ada<script>"}, "/Resource/{id}", "Resource"),
    ("tracker", "contacts", {"firstName": "Ada<script>"}, "/Contact/{id}", "Contact"),
    ("itris", "applicants", {"firstName": "Ada<script>"}, "/applicants/{id}", "Applicant"),
    ("pinpoint", "applications", {"stage": "Applied<script>"}, "/admin/applications/{id}", "Application"),
    ("pinpoint", "job_seekers", {"source": "Shoal<script>"}, "/admin/job_seekers/{id}", "Job seeker"),
    ("smartrecruiters", "candidates", {"uid": "c-1", "firstName": "Ada<script>"}, "/app/people/candidates/c-1", "Candidate"),
]


@pytest.mark.parametrize("key,table,row,path,heading", PAGES)
def test_record_page(key, table, row, path, heading):
    app = importlib.import_module(f"sandbox.{key}").create_app()
    sb = sandbox_of(app)
    sb.store.insert("candidates", {"first_name": "Cand"})       # Pinpoint's person row
    row = sb.store.insert(table, {**row, "candidate_id": 1})
    client = app.test_client()
    sb.faults.mode, sb.faults.count = "500", 5                  # an API fault never hits the web app
    r = client.get(path.format(id=row["id"]))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert f"{heading} #" in html and "&lt;script&gt;" in html and "<script>" not in html
    missing = client.get(path.format(id=row["id"] + 100).replace("c-1", "c-404"))
    assert missing.status_code == 404 and "No " in missing.get_data(as_text=True)
    assert sb.requests == 0 and sb.faults.count == 5
