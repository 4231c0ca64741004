"""Bulk add from CSV on a campaign: each page and fragment, the whole flow through a real worker
into the CATS sandbox, and every kind of bad file refused with a message and nothing added."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select
from sync_support import connect, sandbox_state

from core import db
from models import BulkImport, Campaign, Enrolment, Person, SyncIntent
from services import enrolments


def _campaign(user, sync_as="candidate") -> Campaign:
    c = Campaign(team_id=user.team_id, owner_id=user.id, name="Data engineers", sync_as=sync_as)
    db.session.add(c)
    db.session.commit()
    return c


def _upload(b, campaign, data: bytes, name="people.csv", htmx=False):
    page = f"/campaigns/{campaign.id}/import"
    return b.post(page, {"file": (io.BytesIO(data), name)}, page=page, htmx=htmx,
                  content_type="multipart/form-data")


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


CSV = ("First name,Last name,Email,Company,LinkedIn\n"
       "Ada,Lovelace,ada@example.com,Analytical Engines,https://www.linkedin.com/in/ada-l\n"
       "Grace,Hopper,grace@example.com,Navy,\n"
       ",Nameless,nobody@example.com,,\n"
       "Alan,Turing,not-an-email,,\n"
       "Ada,Again,ADA@example.com,,\n"
       'Eve,Hacker,eve@example.com,"=CMD(""calc"")",\n'
       "Member,Already,member@example.com,,\n")


def test_upload_map_check_and_add_through_the_worker(logged_in, sandbox, run_worker):
    b = logged_in("recruiter")
    cats = sandbox("cats")
    connect(b.user, "cats", cats)
    campaign = _campaign(b.user)
    enrolments.enrol(b.user, campaign, {"first_name": "Member", "last_name": "Already",
                                                  "email": "member@example.com"})
    run_worker()

    page = b.get(f"/campaigns/{campaign.id}/import")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and "10,000 rows" in html and "5 MB" in html
    frag = b.get(f"/campaigns/{campaign.id}/import", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in frag and frag.lstrip().startswith('<section id="import-upload"')

    r = _upload(b, campaign, CSV.encode())
    assert r.status_code == 303
    url = r.headers["Location"]
    bulk = db.session.scalars(select(BulkImport)).one()
    # The mapping is suggested from the headers.
    html = b.get(url).get_data(as_text=True)
    assert re.search(r'name="map-email"[^>]*>.*?<option value="2" selected>Email', html, re.S)
    frag = b.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in frag and frag.lstrip().startswith('<section id="import"')

    form = {"map-first_name": "0", "map-last_name": "1", "map-email": "2", "map-company": "3",
            "map-linkedin_url": "4"}
    r = b.post(f"{url}/mapping", form, page=url, htmx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html
    assert "2</strong> ready to add" in html and "5</strong> won't be added" in html
    assert "&#39;=CMD(" in html and ">=CMD" not in html       # the formula cell, neutralised when shown
    for why in ("missing name", "bad email", "duplicate: same person as row 2", "formula", "already a member"):
        assert why in html
    report = b.get(f"{url}/report.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    assert "'=CMD(\"\"calc\"\")" in report.get_data(as_text=True)   # neutralised in the export too

    r = b.post(f"{url}/start", page=url, htmx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="import-progress"' in html and "hx-trigger" in html
    assert b.post(f"{url}/start", page=url).status_code == 409                # once only
    run_worker()
    progress = b.get(f"{url}/progress", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-state="done"' in progress and "hx-get" not in progress
    db.session.refresh(bulk)
    assert (bulk.done, bulk.failed, bulk.skipped) == (2, 0, 5)
    names = set(db.session.scalars(select(Person.first_name).join(Enrolment, Enrolment.person_id == Person.id)
                                   .where(Enrolment.campaign_id == campaign.id)))
    assert names == {"Ada", "Grace", "Member"}
    synced = db.session.scalars(select(SyncIntent.state)).all()
    assert synced == ["synced"] * 3
    candidates = sandbox_state(cats)["tables"]["candidates"]
    assert sorted(c["first_name"] for c in candidates) == ["Ada", "Grace", "Member"]
    assert not any("CMD" in str(c) for c in candidates)


@pytest.mark.parametrize("data, name, message", [
    (b"", "empty.csv", "The file is empty."),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "photo.png", "not a CSV file"),
    ("Name\n".encode() + b"".join(b"P%d\n" % i for i in range(100_000)), "big.csv", "has 100,000 rows"),
    ("Name\nZo\u00eb\n".encode() + "Ren\u00e9e\n".encode("cp1252"), "mixed.csv", "mixes text encodings"),
    (b"Name\n" + b"x" * (50 * 1024 * 1024), "huge.csv", "larger than 5 MB"),
    (b"Name\n" + b"x" * (6 * 1024 * 1024), "six.csv", "larger than 5 MB"),
])
def test_bad_files_are_refused_with_a_message_and_nothing_added(logged_in, data, name, message):
    b = logged_in("recruiter")
    campaign = _campaign(b.user, sync_as="none")
    r = _upload(b, campaign, data, name, htmx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and message in html and 'id="file-error"' in html
    assert _count(BulkImport) == 0 and _count(Person) == 0 and _count(Enrolment) == 0


def test_no_file_and_bad_mapping_are_422(logged_in):
    b = logged_in("recruiter")
    campaign = _campaign(b.user, sync_as="none")
    page = f"/campaigns/{campaign.id}/import"
    r = b.post(page, {}, page=page, content_type="multipart/form-data")
    assert r.status_code == 422 and "Choose a CSV file" in r.get_data(as_text=True)
    url = _upload(b, campaign, b"Name,Email\nAda,ada@example.com\n").headers["Location"]
    r = b.post(f"{url}/mapping", {"map-full_name": "0", "map-email": "0"}, page=url)
    assert r.status_code == 422 and "already used" in r.get_data(as_text=True)
    r = b.post(f"{url}/mapping", {"map-email": "1"}, page=url)
    assert r.status_code == 422 and "first names" in r.get_data(as_text=True)
    assert db.session.scalars(select(BulkImport.state)).one() == "uploaded"
    r = b.post(f"{url}/start", page=url)      # nothing checked yet
    assert r.status_code == 409 and _count(Enrolment) == 0


def test_another_teams_campaign_or_import_is_404(logged_in, make_user):
    owner = logged_in("recruiter")
    campaign = _campaign(owner.user, sync_as="none")
    url = _upload(owner, campaign, b"Name\nAda\n").headers["Location"]
    stranger = logged_in("admin")
    assert stranger.get(f"/campaigns/{campaign.id}/import").status_code == 404
    assert stranger.get(url).status_code == 404
    assert stranger.get(f"{url}/progress").status_code == 404
    assert stranger.get(f"{url}/report.csv").status_code == 404
    assert stranger.post(f"{url}/mapping", {"map-full_name": "0"}, page="/campaigns/").status_code == 404
    assert stranger.post(f"{url}/start", page="/campaigns/").status_code == 404
    assert _upload(stranger, campaign, b"Name\nAda\n").status_code in (400, 404)


def test_an_archived_campaign_takes_no_import(logged_in, run_worker):
    """Archived: the upload is refused with the reason, and so are "Add N people" and the job itself
    when the campaign was archived after the check; nothing is added either way."""
    from services import campaigns as campaigns_svc
    b = logged_in("recruiter")
    campaign = _campaign(b.user, sync_as="none")
    page = f"/campaigns/{campaign.id}/import"
    url = _upload(b, campaign, CSV.encode()).headers["Location"]
    b.post(f"{url}/mapping", {"map-first_name": "0", "map-last_name": "1", "map-email": "2"}, page=url)
    campaigns_svc.set_archived(campaign, True)

    html = b.get(page).get_data(as_text=True)
    assert "This campaign is archived: restore it to add people." in html and 'name="file"' not in html
    r = _upload(b, campaign, CSV.encode(), htmx=True)
    assert r.status_code == 422 and "This campaign is archived" in r.get_data(as_text=True)
    r = b.post(f"{url}/start", page=url, htmx=True)
    assert r.status_code == 422 and "This campaign is archived" in r.get_data(as_text=True)
    bulk = db.session.scalars(select(BulkImport)).one()       # only the import made before archiving
    assert bulk.state == "validated"

    # Archived after "Add N people" was pressed: the job refuses too, and says so on the progress bar.
    campaigns_svc.set_archived(campaign, False)
    assert b.post(f"{url}/start", page=url).status_code == 200
    campaigns_svc.set_archived(campaign, True)
    run_worker()
    progress = b.get(f"{url}/progress", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-state="failed"' in progress and "the campaign was archived before the import ran" in progress
    assert _count(Enrolment) == 0 and _count(Person) == 0
