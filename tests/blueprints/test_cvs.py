"""CVs on the person page: content sniffing (not the name), the size limit, executables refused
with the reason and nothing kept, download, team scoping, and a CV uploaded for a person already in
the CRM reaching their record under "Don't overwrite original CV" (real worker, CATS sandbox)."""
from __future__ import annotations

import io
import zipfile

import pytest
from people_support import candidates, set_team, start
from sqlalchemy import func, select

from core import db
from models import AuditEntry, CvFile, OutreachEvent, Person
from services.documents import Refused, sniff
from services.enrolments import enrol
from sync_support import campaign, profile, sandbox_state

PDF = b"%PDF-1.7\n% CV\n%%EOF\n"
LIMIT = 10 * 1024 * 1024


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def test_sniff_judges_by_content():
    assert sniff(PDF, limit=LIMIT).key == "pdf"
    assert sniff(docx(), limit=LIMIT).key == "docx"
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as z:
        z.writestr("a.txt", "x")
    refusals = {b"": "empty", b"MZ\x90\x00" + b"\0" * 64: "Windows program", b"\x7fELF\x02\x01": "Linux program",
                b"#!/bin/sh\nrm -rf /": "script", plain_zip.getvalue(): "ZIP archive",
                b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100: "damaged", b"hello": "not a PDF, DOC or DOCX",
                PDF + b"0" * LIMIT: "limit for a CV is 10.0 MB"}
    for content, reason in refusals.items():
        with pytest.raises(Refused, match=reason):
            sniff(content, limit=LIMIT)


def upload(b, person, content, name="cv.pdf"):
    return b.post(f"/people/{person.id}/cv", {"cv": (io.BytesIO(content), name)}, page=f"/people/{person.id}",
                  htmx=True, content_type="multipart/form-data")


def member(b, n=1):
    enrolment, _ = enrol(b.user, campaign(b.user, sync_as="none"), profile(n))
    return db.session.get(Person, enrolment.person_id)


def test_upload_keeps_the_file_and_lists_it_for_download(logged_in):
    b = logged_in("recruiter")
    person = member(b)
    r = upload(b, person, PDF, "../../etc/Ada Lovelace.PDF")
    assert r.status_code == 200, r.get_data(as_text=True)
    html = r.get_data(as_text=True)
    assert 'id="cvs"' in html and "<html" not in html and "Ada Lovelace.pdf kept" in html
    cv = db.session.scalars(select(CvFile)).one()
    assert (cv.person_id, cv.kind, cv.source, cv.size) == (person.id, "pdf", "upload", len(PDF))
    # No CRM link yet: nothing to send now (the CV goes with the push).
    assert db.session.scalar(select(func.count()).select_from(OutreachEvent).where(OutreachEvent.kind == "cv_added")) == 0
    got = b.get(f"/people/{person.id}/cv/{cv.id}")
    assert got.status_code == 200 and got.data == PDF and "attachment" in got.headers["Content-Disposition"]
    assert "Ada Lovelace.pdf" in b.get(f"/people/{person.id}").get_data(as_text=True)


def test_bad_files_are_refused_with_the_reason_and_nothing_is_kept(logged_in):
    b = logged_in("recruiter")
    person = member(b)
    r = upload(b, person, b"MZ\x90\x00" + b"\0" * 500, "cv.pdf")
    assert r.status_code == 422 and "Windows program" in r.get_data(as_text=True)
    r = upload(b, person, b"%PDF-1.4\n" + b"0" * (30 * 1024 * 1024), "big.pdf")
    assert r.status_code == 422 and "30.0 MB" in r.get_data(as_text=True)
    r = b.post(f"/people/{person.id}/cv", {}, page=f"/people/{person.id}", htmx=True)
    assert r.status_code == 422 and "Choose a file" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CvFile)) == 0


def test_another_teams_person_or_file_is_404(logged_in):
    owner = logged_in("recruiter")
    person = member(owner)
    upload(owner, person, PDF)
    cv = db.session.scalars(select(CvFile)).one()
    other = logged_in("admin")
    assert upload(other, person, PDF).status_code == 404
    assert other.get(f"/people/{person.id}/cv/{cv.id}").status_code == 404


def test_a_cv_for_a_synced_person_reaches_their_record_once(logged_in, sandbox, run_worker):
    server, b, enrolment = start(logged_in, sandbox, run_worker, 5)
    [cand] = candidates(server, "ada5@example.com")
    person = db.session.get(Person, enrolment.person_id)
    r = upload(b, person, PDF, "first.pdf")
    assert "being sent to the CRM" in r.get_data(as_text=True)
    run_worker()
    files = [a for a in sandbox_state(server)["tables"].get("attachments", [])
             if a["data_item"] == {"id": cand["id"], "type": "candidate"}]
    assert [(f["filename"], f["is_resume"]) for f in files] == [("first.pdf", True)]

    # The record has a CV now; "Don't overwrite original CV" is on by default: the next one stays in Shoal.
    upload(b, person, docx(), "second.docx")
    run_worker()
    files = [a for a in sandbox_state(server)["tables"].get("attachments", [])
             if a["data_item"] == {"id": cand["id"], "type": "candidate"}]
    assert len(files) == 1
    skip = db.session.scalars(select(AuditEntry).where(AuditEntry.rule == "rule 6: don't overwrite original CV")).one()
    assert "already has one" in skip.summary

    # With the setting off, a new CV is uploaded.
    set_team(b.user, {"keep_original_cv": False})
    upload(b, person, PDF.replace(b"CV", b"CV v3"), "third.pdf")
    run_worker()
    names = [a["filename"] for a in sandbox_state(server)["tables"].get("attachments", [])
             if a["data_item"] == {"id": cand["id"], "type": "candidate"}]
    assert names == ["first.pdf", "third.pdf"]
