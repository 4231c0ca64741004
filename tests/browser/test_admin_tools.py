"""The admin's tools in a real browser (Debian's Chromium through Playwright), each checked against
the CATS sandbox's state: bulk-add a CSV to a campaign (upload › mapping › report › progress bar),
search CATS by the team's Filterable Fields and add a result to a campaign (the push updates that
record, no duplicate), sync health, and deactivating a member whose extension token is then refused.

Every page is also screenshotted at 1280×800 and 390×844 (into $SHOTS_DIR when set, to look at)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from browser_support import CHROMIUM, needs_chromium
from sync_support import campaign, connect, sandbox_state, team_settings

from core import db
from models import CrmLink, Person
from services.tokens import issue_token
from tests.conftest import SANDBOX_ALLOWLIST

pytestmark = [pytest.mark.browser, needs_chromium]

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def shoot(page, name: str, tmp_path: Path) -> None:
    """Screenshot the page at both sizes (full page), then return to desktop width."""
    out = Path(os.environ.get("SHOTS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    for label, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        page.screenshot(path=str(out / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def login(page, site: str, email: str, path: str) -> None:
    page.goto(f"{site}{path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "correct horse battery")
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{site}{path}")


def test_deactivate_a_member_and_their_token_is_refused(site, make_user, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    admin = make_user("admin")
    rita = make_user("recruiter", team=admin.team, email="rita@example.com")
    _row, plain = issue_token(rita, "Rita's laptop")
    me = requests.get(f"{site}/panel/api/me", headers={"Authorization": f"Bearer {plain}"}, timeout=5)
    assert me.status_code == 200
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        login(page, site, admin.email, "/team")
        assert "Rita's laptop" in page.inner_text("#team-tokens")
        shoot(page, "team", tmp_path)
        page.click(f"#member-{rita.id} button:has-text('Password reset link')")
        page.wait_for_selector("#reset-link")
        link = page.inner_text("#reset-link").strip()
        shoot(page, "team-reset-link", tmp_path)
        anon = browser.new_page(viewport={"width": 1280, "height": 800})
        anon.goto(link)
        assert "rita@example.com" in anon.inner_text("#reset")
        shoot(anon, "reset-password", tmp_path)
        anon.close()
        page.once("dialog", lambda d: d.accept())          # hx-confirm
        page.click(f"#member-{rita.id} button:has-text('Deactivate')")
        page.wait_for_selector(f"#member-{rita.id} .badge-bad")
        assert "Deactivated" in page.inner_text(f"#member-{rita.id}")
        assert "Rita's laptop" not in page.inner_text("#team")
        shoot(page, "team-deactivated", tmp_path)
        # Last admin: refused, said in place.
        page.once("dialog", lambda d: d.accept())
        page.select_option(f"#role-{admin.id}", "recruiter")
        page.click(f"#member-{admin.id} button:has-text('Save')")
        page.wait_for_selector(f"#member-{admin.id} .field-error")
        assert "at least one admin" in page.inner_text(f"#member-{admin.id}")
        page.goto(f"{site}/account/")
        page.fill("#f-current", "correct horse battery")
        page.fill("#f-password", "a new long password")
        page.fill("#f-confirm", "a new long passwrd")
        page.click("button:has-text('Change password')")
        page.wait_for_selector("#password-card .field-error")
        shoot(page, "account-password", tmp_path)
        assert errors == []
        browser.close()
    me = requests.get(f"{site}/panel/api/me", headers={"Authorization": f"Bearer {plain}"}, timeout=5)
    assert me.status_code == 401


def test_bulk_add_a_csv_into_cats(site, sandbox, make_user, run_worker, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    cats = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", cats)
    camp = campaign(user)
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("Full name,Email,Organisation,LinkedIn profile\n"
                        "Katherine Johnson,katherine@example.com,NASA,https://www.linkedin.com/in/kjohnson\n"
                        "Dorothy Vaughan,dorothy@example.com,NASA,\n"
                        "Mary Jackson,not-an-email,NASA,\n"
                        'Evil Cell,evil@example.com,"=HYPERLINK(""http://x"")",\n', encoding="utf-8")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        login(page, site, user.email, f"/campaigns/{camp.id}")
        page.click("#bulk-add-link")
        page.wait_for_selector("#import-upload")
        shoot(page, "import-upload", tmp_path)
        page.set_input_files("#f-file", files=[{"name": "photo.png", "mimeType": "image/png",
                                                 "buffer": b"\x89PNG\r\n\x1a\n\x00\x00"}])
        page.click("button:has-text('Upload and check')")
        page.wait_for_selector("#file-error")
        assert "not a CSV file" in page.inner_text("#file-error")
        shoot(page, "import-upload-error", tmp_path)
        page.set_input_files("#f-file", str(csv_file))
        page.click("button:has-text('Upload and check')")
        page.wait_for_selector("#import-mapping")
        assert page.input_value("#map-full_name") == "0" and page.input_value("#map-company") == "2"
        shoot(page, "import-mapping", tmp_path)
        page.click("button:has-text('Check 4 rows')")
        page.wait_for_selector("#import-report")
        report = page.inner_text("#import-report")
        assert "bad email" in report and "formula" in report and "'=HYPERLINK(" in report
        shoot(page, "import-report", tmp_path)
        page.click("button:has-text('Add 2 people')")
        page.wait_for_selector("#import-progress")
        run_worker()                        # the bulk job, then the two pushes; the bar polls itself
        page.wait_for_selector("#import-progress[data-state=done]", timeout=10_000)
        assert "2\nadded" in page.inner_text("#import-progress").replace(" added", "\nadded")
        shoot(page, "import-done", tmp_path)
        assert errors == []
        browser.close()
    candidates = sandbox_state(cats)["tables"]["candidates"]
    assert sorted((c["first_name"], c["last_name"]) for c in candidates) == [
        ("Dorothy", "Vaughan"), ("Katherine", "Johnson")]
    assert not any("HYPERLINK" in str(c) for c in candidates)


def test_search_cats_and_add_a_result_to_a_campaign(site, sandbox, make_user, run_worker, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    from providers import get_provider
    from sandbox import cats as cats_sandbox

    cats = sandbox("cats")
    admin = make_user("admin")
    connect(admin, "cats", cats)
    camp = campaign(admin)
    camp.name = "Space pioneers"
    db.session.commit()
    adapter = get_provider("cats")(base_url=cats.base + cats_sandbox.API_ROOT,
                                   credentials=dict(cats_sandbox.DEFAULT_CREDENTIALS), allowlist=SANDBOX_ALLOWLIST)
    for first, last, company in (("Katherine", "Johnson", "NASA"), ("Dorothy", "Vaughan", "NASA"),
                                 ("Mary", "Jackson", "Langley")):
        adapter.create("candidate", {"first_name": first, "last_name": last, "company": company,
                                     "email": f"{first.lower()}@example.com", "title": "Mathematician"})
    before = len(sandbox_state(cats)["tables"]["candidates"])
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        login(page, site, admin.email, "/search")
        assert "Choose Filterable Fields" in page.inner_text("#search-empty")
        shoot(page, "search-empty", tmp_path)
        team_settings(admin, "cats", {"filterable_fields.candidate": ["first_name", "last_name", "company"]})
        page.reload()
        page.fill("#f-f-company", "NASA")
        page.press("#f-f-company", "Enter")              # keyboard: Enter submits
        page.wait_for_selector("#search-results[data-state=running]")
        run_worker()                                     # the search; the results poll themselves
        page.wait_for_selector("#search-results[data-state=done]", timeout=10_000)
        table = page.inner_text("#search-table")
        assert "Katherine" in table and "Dorothy" in table and "Mary" not in table and "Mathematician" in table
        shoot(page, "search-results", tmp_path)
        page.click("#result-1 button:has-text('Add')")   # one result, alone
        page.wait_for_selector("#search-notice")
        assert "Added 1 to Space pioneers" in page.inner_text("#search-notice")
        page.check("#pick-1")
        page.check("#pick-2")
        page.click("button:has-text('Add selected')")
        page.wait_for_selector("#search-notice:has-text('already there')")
        assert "Added 1 to Space pioneers. 1 already there." in page.inner_text("#search-notice")
        shoot(page, "search-added", tmp_path)
        run_worker()                                     # both pushes update the found records
        assert errors == []
        browser.close()
    state = sandbox_state(cats)["tables"]["candidates"]
    assert len(state) == before
    links = {p.first_name: link.remote_id for p, link in db.session.execute(
        select(Person, CrmLink).join(CrmLink, CrmLink.person_id == Person.id)).all()}
    assert set(links) == {"Katherine", "Dorothy"}
    assert {str(c["id"]) for c in state if c["first_name"] in links} == set(links.values())


def test_sync_health_retry_all_and_person_audit(site, sandbox, make_user, run_worker, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    from services import enrolments

    cats = sandbox("cats")
    admin = make_user("admin")
    conn = connect(admin, "cats", cats)
    camp = campaign(admin)
    enrolments.enrol(admin, camp, {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"})
    for n in (1, 2):     # CATS refuses a candidate without a last name: two parked syncs, one reason
        enrolments.enrol(admin, camp, {"first_name": f"Nolast{n}", "email": f"nolast{n}@example.com"})
    run_worker()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        login(page, site, admin.email, "/activity")
        page.click("#health-link")
        page.wait_for_url(f"{site}/health/{conn.id}")
        assert "3 syncs, 2 with a failure" in page.inner_text("#health")
        assert page.locator("svg.chart rect.bar-failures").count() == 30
        shoot(page, "health", tmp_path)
        for p in db.session.scalars(select(Person).where(Person.last_name == "")):
            p.last_name = "Fixed"
        db.session.commit()
        page.click("#failure-groups button:has-text('Retry all 2')")
        page.wait_for_selector(".flash-success:has-text('Queued 2 syncs again')")
        run_worker()
        page.reload()
        assert "Nothing is waiting for you" in page.inner_text("#failure-groups")
        ada = db.session.scalars(select(Person).where(Person.first_name == "Ada")).one()
        page.goto(f"{site}/people/{ada.id}")
        page.wait_for_selector("#person-audit table")
        assert "Done" in page.inner_text("#person-audit")
        shoot(page, "person-audit", tmp_path)
        assert errors == []
        browser.close()
    assert sorted(c["last_name"] for c in sandbox_state(cats)["tables"]["candidates"]) == ["Fixed", "Fixed", "Lovelace"]
