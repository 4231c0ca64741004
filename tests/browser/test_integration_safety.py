"""The integration page's states from issue #10 in a real Chromium at 1280×800: in production no
"API base URL" is offered; a subdomain that isn't one DNS label and an address outside the CRM's
hosts are refused in place (422, swapped in by htmx); a CRM that stopped answering shows
"Unreachable" with our reason, on the CRM's page and in the list. Screenshots go to tmp_path, or to
$SHOAL_SCREENSHOT_DIR to look at them."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser_support import CHROMIUM, needs_chromium
from sync_support import connect

from core import db
from services.outage import mark_unreachable

pytestmark = [pytest.mark.browser, needs_chromium]


def test_refused_addresses_and_an_outage_on_the_integration_page(app, site, sandbox, make_user, monkeypatch,
                                                                   tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    shots = Path(os.environ.get("SHOAL_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    cats = sandbox("cats")
    admin = make_user("admin")
    monkeypatch.setitem(app.config, "CRM_HOST_ALLOWLIST", "")   # production
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{site}/integrations/pinpoint")
        page.fill("input[name=email]", admin.email)
        page.fill("input[name=password]", "correct horse battery")
        page.click("button:has-text('Log in')")
        page.wait_for_url(f"{site}/integrations/pinpoint")
        assert page.locator("input[name=base_url]").count() == 0
        page.screenshot(path=str(shots / "pinpoint-production.png"))

        page.fill("input[name=api_key]", "pp-key")
        page.fill("input[name=subdomain]", "evil.example#")
        page.click("button:has-text('Activate')")
        page.wait_for_selector("#connect-form .field-error")
        assert "Enter the subdomain only" in page.inner_text("#connect-form")
        page.focus("input[name=subdomain]")   # the keyboard lands back on the field to fix
        page.screenshot(path=str(shots / "pinpoint-subdomain-refused.png"))

        # The demo's allow-list: the CRM sandbox only. An address inside is refused in our words.
        monkeypatch.setitem(app.config, "CRM_HOST_ALLOWLIST", f"127.0.0.1:{cats.port}")
        page.goto(f"{site}/integrations/cats")
        page.fill("input[name=api_key]", "cats-key")
        page.click("#connect-form summary")
        page.fill("input[name=base_url]", "http://169.254.169.254/latest/meta-data")
        page.click("button:has-text('Activate')")
        page.wait_for_selector("#connect-form .field-error")
        assert "only at its own address" in page.inner_text("#connect-form")
        page.screenshot(path=str(shots / "cats-base-url-refused.png"))

        conn = connect(admin, "cats", cats)
        conn.account_name = "CATS sandbox"
        db.session.commit()
        mark_unreachable(conn.id, "the request timed out")
        page.goto(f"{site}/integrations/cats")
        status = page.inner_text("#connection-status")
        assert "Unreachable" in status and "CATS unreachable since" in status and "the request timed out" in status
        page.screenshot(path=str(shots / "cats-unreachable.png"))
        page.goto(f"{site}/integrations/")
        assert "Unreachable" in page.inner_text("#provider-cats")
        page.screenshot(path=str(shots / "integrations-unreachable.png"))
        browser.close()
    assert errors == []
