"""A CRM id is a link into the CRM, clicked through in a real browser (Debian's Chromium through
Playwright) on the demo: the demo team (`seed_demo`) is connected to the CATS sandbox, whose web
address is the sandbox's own record pages. A person added to the demo campaign and synced by a real
worker shows as "Candidate #<id> in CATS" on their page, the People list, the campaign, the
activity log; the link opens CATS's page of that record in a new tab, with no opener.

Each page is also screenshotted at 1280×800 (into $SHOTS_DIR when set, to look at)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select
from browser_support import admin_page, needs_chromium

from core import db
from models import Campaign, CrmLink, SyncIntent, User
from sandbox import cats as cats_sandbox
from services import enrolments
from services.demo import ADMIN_EMAIL, DEMO_PASSWORD, RECRUITER_EMAIL, seed_demo
from sync_support import team_settings

pytestmark = [pytest.mark.browser, needs_chromium]


def test_click_through_to_the_record_in_the_cats_sandbox(site, sandbox, run_worker, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    cats = sandbox("cats")
    seed_demo(cats.base + cats_sandbox.API_ROOT)
    recruiter = db.session.scalars(select(User).where(User.email == RECRUITER_EMAIL)).one()
    camp = db.session.scalars(select(Campaign).where(Campaign.team_id == recruiter.team_id)).one()
    enrolments.enrol(recruiter, camp, {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com",
                                       "title": "Rear Admiral", "company": "US Navy"})
    run_worker()
    link = db.session.scalars(select(CrmLink)).one()
    intent = db.session.scalars(select(SyncIntent)).one()
    # A later push for Grace that CATS kept refusing, for sync health's parked list.
    db.session.add(SyncIntent(team_id=recruiter.team_id, connection_id=intent.connection_id, person_id=link.person_id,
                              idempotency_key="later", state="parked", record_type="candidate",
                              reason="CATS refused the update"))
    team_settings(recruiter, "cats", {"filterable_fields.candidate": ["first_name"]})
    text = f"Candidate #{link.remote_id} in CATS"
    shots = Path(os.environ.get("SHOTS_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    with sync_api.sync_playwright() as pw:
        browser, page, errors = admin_page(pw, site, ADMIN_EMAIL, {"width": 1280, "height": 800}, DEMO_PASSWORD)
        context = page.context

        for name, path in (("people", "/people/"), ("campaign", f"/campaigns/{camp.id}"), ("activity", "/activity"),
                           ("trail", f"/people/{link.person_id}/audit"), ("person", f"/people/{link.person_id}")):
            page.goto(f"{site}{path}")
            anchor = page.get_by_role("link", name=text).first
            sync_api.expect(anchor).to_be_visible(timeout=10_000)
            assert anchor.get_attribute("target") == "_blank"
            assert set((anchor.get_attribute("rel") or "").split()) >= {"noopener", "noreferrer"}
            page.screenshot(path=str(shots / f"crm-link-{name}-desktop.png"), full_page=True)

        page.goto(f"{site}/health/{intent.connection_id}")
        sync_api.expect(page.locator("#parked-syncs").get_by_role("link", name=text)).to_be_visible()
        page.screenshot(path=str(shots / "crm-link-health-desktop.png"), full_page=True)
        page.goto(f"{site}/search")
        page.fill("input[name=f-first_name]", "Grace")
        page.locator("#search-form button[type=submit]").click()
        sync_api.expect(page.locator("#search-results[data-state=running]")).to_be_visible()
        run_worker()     # the search job; the results fragment polls itself until it is done
        sync_api.expect(page.locator("#search-results").get_by_role("link", name=text)).to_be_visible(timeout=10_000)
        page.screenshot(path=str(shots / "crm-link-search-desktop.png"), full_page=True)

        page.goto(f"{site}/people/{link.person_id}")
        # On the person page: click, and CATS's page of Grace opens in a new tab, cut off from ours.
        with context.expect_page() as opened:
            page.get_by_role("link", name=text).first.click()
        record = opened.value
        record.wait_for_load_state()
        assert record.url.startswith(f"{cats.base}/index.php?m=candidates&a=show&candidateID={link.remote_id}")
        sync_api.expect(record.locator("#record-title")).to_have_text(f"Candidate #{link.remote_id}")
        assert "Hopper" in record.inner_text("#record")
        assert record.evaluate("window.opener") is None
        record.screenshot(path=str(shots / "crm-link-cats-record-desktop.png"), full_page=True)
        assert errors == []
        browser.close()
