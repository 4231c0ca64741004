"""Admin locks in Debian's Chromium: an admin ticks "Recruiters can't change this for a person" for the
job, the tags and the Sync Override on the campaign page; in the extension's side panel the grey arrow
shows those areas read-only, by name, with a lock and why, while the lists stay a choice; Add pushes
the person onto the campaign's job, and the "New to Shoal" badge polls until "Already in CATS"."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser_support import needs_chromium
from test_extension import launch
from test_extension_panel import _open_panel

from core import db
from models import Campaign
from sync_support import connect, sandbox_state

pytestmark = [pytest.mark.browser, needs_chromium]
ADA_EMAIL = "ada.example@example.com"


def test_locked_areas_from_the_campaign_page_to_the_panel(app, site, sandbox, make_user, run_worker, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from services.tokens import issue_token

    server = sandbox("cats")
    admin = make_user("admin")
    recruiter = make_user("recruiter", team=admin.team)
    connect(admin, "cats", server)
    tables = sandbox_state(server)["tables"]
    job = next(j for j in tables["jobs"] if j["title"] == "Data Engineer")
    tag = next(t for t in tables["tags"] if t["name"] == "Python")
    campaign = Campaign(team_id=admin.team_id, owner_id=recruiter.id, name="Data engineers Q3", sync_as="candidate",
                        sync_options={"job_id": str(job["id"]), "tags": [str(tag["id"])]},
                        sync_override={"add_candidate": "added"})
    db.session.add(campaign)
    db.session.commit()
    _row, token = issue_token(recruiter)
    shots = Path(os.environ.get("SHOAL_SHOTS_DIR") or tmp_path)     # to look at them after a run
    with sync_playwright() as pw:
        context = launch(pw, tmp_path / "chrome-profile")
        try:
            # The admin locks three areas on the campaign page.
            page = context.new_page()
            page.goto(f"{site}/campaigns/{campaign.id}")
            page.fill("input[name=email]", admin.email)
            page.fill("input[name=password]", "correct horse battery")
            page.click("button:has-text('Log in')")
            page.wait_for_url(f"{site}/campaigns/{campaign.id}")
            run_worker()                                 # the CRM's jobs, tags and lists
            expect(page.locator("#lock-job_id")).to_be_visible(timeout=10_000)
            page.screenshot(path=str(shots / "campaign-before.png"), full_page=True)
            page.check("#lock-job_id")
            page.check("#lock-tags")
            expect(page.locator("#campaign-settings details.advanced")).to_have_attribute("open", "")
            page.check("#lock-add_when")
            page.click("#campaign-settings button:has-text('Save')")
            expect(page.locator("#campaign-locks")).to_contain_text(
                "Recruiters can't change for a person: Job, Tags, Sync Override.", timeout=10_000)
            page.locator("#campaign-settings").scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "campaign-locks.png"))

            # The recruiter's panel: locked areas read-only, by name; the lists still a choice.
            profile, panel = _open_panel(context, site, token)
            expect(panel.locator(".person-name")).to_have_text("Ada Example", timeout=15_000)
            expect(panel.locator("#panel-match")).to_contain_text("New to Shoal")
            panel.locator("#campaign-picker").select_option(label="Data engineers Q3")
            panel.locator("#options-toggle").click()
            locked_job = panel.locator("#opt-job_id-locked")
            expect(locked_job).to_contain_text("Data Engineer", timeout=15_000)
            expect(locked_job).to_contain_text("Locked by your admin for this campaign")
            expect(panel.locator("#opt-tags-locked")).to_contain_text("Python")
            expect(panel.locator("#opt-job_id")).to_have_count(0)
            expect(panel.locator("#opt-add-when")).to_be_disabled()
            expect(panel.locator("#opt-lists")).to_be_enabled()
            profile.wait_for_timeout(300)
            profile.screenshot(path=str(shots / "panel-locks.png"))
            profile.set_viewport_size({"width": 390, "height": 844})
            profile.wait_for_timeout(300)
            profile.screenshot(path=str(shots / "panel-locks-narrow.png"))
            profile.set_viewport_size({"width": 1280, "height": 800})

            panel.get_by_role("button", name="Add").click()
            expect(panel.locator("#panel-added")).to_contain_text("Added Ada Example", timeout=10_000)
            expect(panel.locator("#panel-match")).to_contain_text("Known to Shoal")
            expect(panel.locator("#panel-match")).not_to_contain_text("New to Shoal")
            run_worker()                                 # the push; the badge and the status poll
            expect(panel.locator("#panel-result")).to_contain_text("Synced", timeout=15_000)
            expect(panel.locator("#panel-match")).to_contain_text("Already in CATS", timeout=15_000)
        finally:
            context.close()

    tables = sandbox_state(server)["tables"]
    [cand] = [c for c in tables["candidates"] if c["emails"]["primary"] == ADA_EMAIL]
    assert [p["job_id"] for p in tables["pipelines"] if p["candidate_id"] == cand["id"]] == [job["id"]]
    assert [str(t) for t in cand["tag_ids"]] == [str(tag["id"])]
