"""The admin's whole path in Debian's Chromium, as the articles lay it out: sign up (by the emailed link); connect
SmartRecruiters through its real consent pop-up ("Allow access"), the integration page turning green
when the pop-up closes; change a setting in every group of the integration settings; create a
campaign in the dialog with sync options and a Sync Override; edit them on the campaign page; add a
person and check what the SmartRecruiters sandbox holds after the push. Screenshots at 1280×800 and
390×844 go to tmp_path (and to docs/ with SHOAL_SCREENSHOTS=1, for the README)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import requests
from browser_support import CHROMIUM, needs_chromium
from outreach_support import smtp_server_for_test
from sqlalchemy import select

from core import db
from models import Campaign, SettingsLayer

pytestmark = [pytest.mark.browser, needs_chromium]
DOCS = Path(__file__).resolve().parents[2] / "docs"


def shot(page, tmp_path: Path, name: str, full: bool = False) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=full)
    if os.environ.get("SHOAL_SCREENSHOTS") == "1" and name.startswith("readme-"):
        page.screenshot(path=str(DOCS / f"screenshot-{name[7:]}.png"), full_page=full)


def save_section(page, section: str) -> None:
    page.click(f"#settings-{section} button[type=submit]")
    page.wait_for_selector(f"#settings-{section} .saved", timeout=10_000)


def test_admin_connects_smartrecruiters_sets_every_group_and_runs_a_campaign(
        app, site, sandbox, run_worker, monkeypatch, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    from sandbox.smartrecruiters import API_ROOT, OAUTH_CLIENT
    sr = sandbox("smartrecruiters")
    mail_server = smtp_server_for_test(app, monkeypatch)     # sign-up emails its link (SYSTEM_MAIL_URL)
    monkeypatch.setitem(app.config, "SYSTEM_MAIL_URL", f"smtp://127.0.0.1:{mail_server.port}?security=none")
    monkeypatch.setitem(app.config, "OUTREACH_PUBLIC_URL", site)
    monkeypatch.setitem(app.config, "SMARTRECRUITERS_CLIENT_ID", OAUTH_CLIENT["client_id"])
    monkeypatch.setitem(app.config, "SMARTRECRUITERS_CLIENT_SECRET", OAUTH_CLIENT["client_secret"])
    monkeypatch.setitem(app.config, "SMARTRECRUITERS_AUTH_BASE_URL", sr.base)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        # Sign up: a new team, its admin.
        page.goto(f"{site}/signup")
        page.fill("input[name=team_name]", "Northwind Talent")
        page.fill("input[name=name]", "Nadia Admin")
        page.fill("input[name=email]", "nadia@northwind.example")
        page.fill("input[name=password]", "correct horse battery staple")
        page.click("button[type=submit]")
        page.wait_for_selector("#signup:has-text('Check your email')")
        shot(page, tmp_path, "signup-sent")
        run_worker()                                          # the email with the link
        [mail] = [m for m in mail_server.catcher.received() if "nadia@northwind.example" in str(m.summary())]
        page.goto(re.search(r"http://\S+/signup/confirm/\S+", mail.part("plain")).group(0))
        shot(page, tmp_path, "signup-confirm")
        page.click("#signup-confirm button[type=submit]")
        page.wait_for_url(f"{site}/integrations/")

        # SmartRecruiters: "Allow access" opens the consent in a pop-up window.
        page.click("#provider-smartrecruiters a.button")
        page.wait_for_url(f"{site}/integrations/smartrecruiters")
        page.click("#oauth-connect summary")
        page.fill("#oauth-connect input[name=base_url]", sr.base + API_ROOT)
        with page.expect_popup() as popup_info:
            page.click("#oauth-connect button[type=submit]")
        popup = popup_info.value
        popup.wait_for_selector("text=Allow access to your SmartRecruiters account")
        popup.click("button:has-text('Allow access')")       # → our callback, then "Connecting…"
        popup.wait_for_selector("#oauth-exchange[data-state=running]:has-text('Connecting')", timeout=10_000)
        with popup.expect_event("close", timeout=15_000):    # connected: the pop-up closes itself
            run_worker()                                      # the code exchange, then the connection check
        page.wait_for_selector("#connection-status .badge-ok", timeout=15_000)    # green
        page.wait_for_selector("#crm-settings", timeout=10_000)
        run_worker()                                          # the CRM's fields, statuses, note types
        page.wait_for_selector("#crm-options:has-text('loaded from SmartRecruiters')", timeout=15_000)

        # One change in every group, each saved on its own.
        page.check("#settings-contact input[name='v:sync_manual_updates']")
        save_section(page, "contact")
        page.select_option("#settings-adding select[name='v:add_candidate']", "reply")
        save_section(page, "adding")
        page.select_option("#settings-fields-candidate select[name='v:update_mode.candidate']", "always")
        save_section(page, "fields-candidate")
        page.locator("#settings-advanced input[name='v:filterable_fields.candidate']").first.check()
        save_section(page, "advanced")
        page.uncheck("#settings-notes input[name='v:note_sources'][value='call']")
        save_section(page, "notes")
        mapping = page.locator("#settings-mapping select").first
        mapping.select_option(index=1)
        save_section(page, "mapping")
        page.locator("#settings-general input[name='v:job_status_whitelist']").first.check()
        save_section(page, "general")
        shot(page, tmp_path, "readme-integration-settings")
        page.set_viewport_size({"width": 390, "height": 844})
        shot(page, tmp_path, "integration-settings-phone", full=True)
        page.set_viewport_size({"width": 1280, "height": 800})

        team = db.session.scalars(select(SettingsLayer).where(SettingsLayer.user_id.is_(None))).one()
        values = team.values
        assert values["sync_manual_updates"] is True and values["add_candidate"] == "reply"
        assert values["update_mode.candidate"] == "always" and values["filterable_fields.candidate"]
        assert "call" not in values["note_sources"] and values["field_mapping.candidate"]
        assert values["job_status_whitelist"]

        # A campaign made in the dialog: sync options behind the grey arrow, and a Sync Override.
        page.click("nav >> text=Campaigns")
        page.click("#campaigns .row a.button:has-text('New campaign')")
        page.wait_for_selector("dialog#campaign-dialog[open]")
        page.fill("dialog input[name=name]", "Platform engineers")
        page.click("dialog summary:has-text('Sync options')")
        run_worker()                                          # the CRM's jobs, tags and statuses
        page.wait_for_selector("dialog select[name=tags]", timeout=15_000)
        tags = page.eval_on_selector_all("dialog select[name=tags] option", "os => os.map(o => o.value)")
        page.select_option("dialog select[name=tags]", [tags[0]])
        page.click("dialog summary:has-text('Advanced settings')")
        page.select_option("dialog select[name=add_when]", "interested")
        page.click("dialog button:has-text('Create campaign')")
        page.wait_for_selector("h1:has-text('Platform engineers')")
        campaign = db.session.scalars(select(Campaign)).one()
        assert campaign.sync_options == {"tags": [tags[0]]} and campaign.sync_override == {"add_candidate": "interested"}

        # Edited afterwards: a second tag, and the override back to "added" (pushes at once).
        page.wait_for_selector("#campaign-settings select[name=tags]", timeout=15_000)
        page.select_option("#campaign-settings select[name=tags]", tags[:2])
        page.select_option("#campaign-settings select[name=add_when]", "added")
        page.click("#campaign-settings button:has-text('Save')")
        page.wait_for_selector("#campaign-settings .saved")
        assert "when added to the campaign" in page.inner_text("#campaign-sync-sentence")
        db.session.refresh(campaign)
        assert campaign.sync_options == {"tags": tags[:2]} and campaign.sync_override == {"add_candidate": "added"}

        page.click("#add-person summary")
        page.fill("#members input[name=first_name]", "Grace")
        page.fill("#members input[name=last_name]", "Hopper")
        page.fill("#members input[name=email]", "grace.hopper@example.com")
        page.click("button:has-text('Add to campaign')")
        page.wait_for_selector("#members .intent-status")
        run_worker()                                          # the push
        page.wait_for_selector("#members .intent-status .badge-ok", timeout=15_000)
        shot(page, tmp_path, "readme-campaign")
        page.set_viewport_size({"width": 390, "height": 844})
        shot(page, tmp_path, "campaign-phone", full=True)

        tables = requests.get(f"{sr.base}/__sandbox/state", timeout=5).json()["tables"]
        [cand] = [c for c in tables["candidates"] if c.get("email") == "grace.hopper@example.com"]
        names = {t["id"]: t["name"] for t in tables.get("tags", [])} if tables.get("tags") else {}
        assert set(cand["tags"]) >= {names.get(t, t) for t in tags[:2]}, (cand["tags"], tags[:2])
        assert errors == []
        browser.close()
