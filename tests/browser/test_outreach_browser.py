"""The outreach pages in Debian's Chromium (Playwright), as a recruiter and an admin would use them:
the mailbox card (Save, Test in a worker, the polling status), a sequence written in the editor (an
unknown variable refused in place), started, its first email sent through a real SMTP server and
shown as Sent, a LinkedIn task ticked off on My tasks, the admin's outreach settings, the
unsubscribe page and the mail catcher's list. Screenshots at 1280×800 go to SHOAL_SCREENSHOTS
(a folder) when set, else the test's tmp_path."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser_support import CHROMIUM, needs_chromium
from outreach_support import MONDAY_10AM, Clock, smtp_server

from sandbox.common import ServerThread
from sandbox.smtp import web_app
from services.outreach import scheduler

pytestmark = [pytest.mark.browser, needs_chromium]


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SHOAL_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_outreach_pages_in_a_browser(app, site, make_user, run_worker, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    shots = _shots(tmp_path)
    saved = dict(app.config)
    smtp = smtp_server(app)
    app.config["OUTREACH_CLOCK"] = Clock(MONDAY_10AM)
    catcher_web = ServerThread(web_app(smtp.catcher, smtp.port))
    catcher_web.start()
    admin = make_user("admin")
    recruiter = make_user("recruiter", team=admin.team)
    from core import db
    from models import Campaign
    campaign = Campaign(team_id=admin.team_id, owner_id=recruiter.id, name="Platform engineers", sync_as="none")
    db.session.add(campaign)
    db.session.commit()
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            def login(email: str) -> None:
                page.goto(f"{site}/login")
                page.fill("input[name=email]", email)
                page.fill("input[name=password]", "correct horse battery")
                page.click("button:has-text('Log in')")
                page.wait_for_url(lambda url: "/login" not in url)

            login(recruiter.email)
            # Mailbox: a bad port is refused in place, then saved and tested by a worker.
            page.goto(f"{site}/account/")
            page.fill("#mailbox input[name=host]", "127.0.0.1")
            page.fill("#mailbox input[name=port]", "0")
            page.select_option("#mailbox select[name=security]", "none")
            page.click("#mailbox button:has-text('Save mailbox')")
            page.wait_for_selector("#mailbox .field-error")
            page.locator("#mailbox").screenshot(path=str(shots / "mailbox-errors.png"))
            page.fill("#mailbox input[name=port]", str(smtp.port))
            page.fill("#mailbox input[name=username]", "riley")
            page.fill("#mailbox input[name=password]", "any-password")
            page.click("#mailbox button:has-text('Save mailbox')")
            page.wait_for_selector("#mailbox >> text=Mailbox saved")
            page.click("#mailbox button:has-text('Test')")
            page.wait_for_selector("#mailbox-test .badge-busy")
            run_worker()
            page.wait_for_selector("#mailbox-test .badge-ok", timeout=10_000)
            page.locator("#mailbox").scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "account-mailbox.png"), full_page=True)

            # The sequence editor: empty state, an unknown variable refused, two steps, start.
            page.goto(f"{site}/campaigns/{campaign.id}/sequence/")
            page.wait_for_selector("text=No steps yet")
            page.screenshot(path=str(shots / "sequence-empty.png"))
            page.fill("#step-form input[name=subject]", "Hello {{ frist_name }}")
            page.fill("#step-form textarea[name=body_text]", "Hi {{ first_name }},\n\nA platform role at a fintech?\n\n{{ sender_name }}")
            page.click("#step-form button:has-text('Add step')")
            page.wait_for_selector("#step-form .field-error")
            assert "Unknown variable {{ frist_name }}" in page.inner_text("#step-form")
            page.screenshot(path=str(shots / "sequence-step-error.png"), full_page=True)
            page.fill("#step-form input[name=subject]", "Hello {{ first_name }}")
            page.click("#step-form button:has-text('Add step')")
            page.wait_for_selector("text=Step 1 added")
            page.select_option("#step-form select[name=kind]", "linkedin")
            page.fill("#step-form input[name=delay_days]", "0")
            page.fill("#step-form input[name=delay_hours]", "0")
            page.fill("#step-form textarea[name=body_text]", "Connect with {{ first_name }}: mention the fintech role.")
            page.click("#step-form button:has-text('Add step')")
            page.wait_for_selector("text=Step 2 added")

            page.goto(f"{site}/campaigns/{campaign.id}")
            page.click("#add-person summary")
            page.fill("#members input[name=first_name]", "Grace")
            page.fill("#members input[name=last_name]", "Hopper")
            page.fill("#members input[name=email]", "grace@example.com")
            page.fill("#members input[name=company]", "Navy")
            page.click("button:has-text('Add to campaign')")
            page.wait_for_selector("#members >> text=Added Grace Hopper")
            page.click("#sequence-link")
            page.click("button:has-text('Start sequence')")
            page.wait_for_selector("text=Sequence started")
            scheduler.tick()
            page.wait_for_selector("#sequence-people .badge-busy")
            run_worker()
            page.wait_for_selector("#sequence-people [data-state=sent]", timeout=10_000)
            scheduler.tick()                      # step 2 (no delay): a LinkedIn task
            page.reload()
            page.wait_for_selector("#sequence-people [data-state=open]")
            page.screenshot(path=str(shots / "sequence-running.png"), full_page=True)
            assert [m.summary()["subject"] for m in smtp.catcher.received()] == ["Hello Grace"]

            # My tasks: the LinkedIn message, ticked off.
            page.click("nav >> text=My tasks")
            page.wait_for_selector("text=Connect with Grace: mention the fintech role.")
            page.screenshot(path=str(shots / "my-tasks.png"), full_page=True)
            page.click(".task button:has-text('Done')")
            page.wait_for_selector("text=Nothing to do right now")
            page.screenshot(path=str(shots / "my-tasks-empty.png"))

            # The unsubscribe page a person reaches from the email.
            link = smtp.catcher.received()[0].summary()["list_unsubscribe"].strip("<>").replace("http://shoal.test", site)
            page.goto(link)
            page.screenshot(path=str(shots / "unsubscribe.png"))
            page.click("button:has-text('Unsubscribe')")
            page.wait_for_selector("text=You're unsubscribed")

            # The local mail catcher's list.
            page.goto(catcher_web.base)
            page.wait_for_selector("text=Hello Grace")
            page.screenshot(path=str(shots / "mail-catcher.png"))

            # The admin's outreach settings: hours, and the suppression list with the opt-out in it.
            page.context.clear_cookies()
            login(admin.email)
            page.goto(f"{site}/outreach/")
            page.wait_for_selector("#suppression >> text=grace@example.com")
            page.fill("#suppression input[name=value]", "not an address")
            page.click("#suppression button:has-text('Add')")
            page.wait_for_selector("#suppression .field-error")
            page.screenshot(path=str(shots / "outreach-settings.png"), full_page=True)
            assert errors == []
            browser.close()
    finally:
        catcher_web.stop()
        app.config.clear()
        app.config.update(saved)
