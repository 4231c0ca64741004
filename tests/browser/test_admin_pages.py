"""The admin seed flow in a real browser (Debian's Chromium through Playwright): log in, Integrations ›
search for CATS › enter the API key › Activate › the self-polling status turns into a green
"Connected" badge once the worker has checked the key against the CATS sandbox. Also checks that a
form with errors (422) is swapped in by htmx, which needs base.html's responseHandling config."""
from __future__ import annotations

import pytest
from browser_support import CHROMIUM, needs_chromium

from sandbox import cats as cats_sandbox

pytestmark = [pytest.mark.browser, needs_chromium]


def test_connect_cats_from_the_integrations_page(site, sandbox, make_user, run_worker, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    cats = sandbox("cats")
    admin = make_user("admin")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{site}/integrations/")
        page.fill("input[name=email]", admin.email)
        page.fill("input[name=password]", "correct horse battery")
        page.click("button:has-text('Log in')")
        page.wait_for_url(f"{site}/integrations/")

        page.fill("input[name=q]", "cat")          # htmx filters the list as you type
        # A locator wait, not wait_for_function: the app's CSP (script-src 'self') refuses eval.
        sync_api.expect(page.locator("#provider-list")).not_to_contain_text("Pinpoint")
        page.click("#provider-cats a.button")
        page.wait_for_url(f"{site}/integrations/cats")

        page.click("button:has-text('Activate')")  # nothing entered: 422, errors swapped in place
        page.wait_for_selector("#connect-form .field-error")

        page.fill("input[name=api_key]", cats_sandbox.DEFAULT_CREDENTIALS["api_key"])
        page.click("#connect-form summary")
        page.fill("input[name=base_url]", cats.base + cats_sandbox.API_ROOT)
        page.click("button:has-text('Activate')")
        page.wait_for_selector("#connection-status .badge-busy")
        run_worker()                               # the check job, while the page keeps polling
        page.wait_for_selector("#connection-status .badge-ok", timeout=10_000)
        assert "Connected" in page.inner_text("#connection-status")
        assert cats_sandbox.DEFAULT_CREDENTIALS["api_key"] not in page.content()
        page.screenshot(path=str(tmp_path / "integrations.png"))

        # A campaign that syncs people as CATS candidates, and one person added by hand.
        page.click("nav >> text=Campaigns")
        page.click("text=New campaign")            # opens the create dialog
        page.wait_for_selector("dialog#campaign-dialog[open]")
        page.fill("input[name=name]", "Data engineers")
        page.select_option("select[name=sync_as]", "candidate")
        page.click("dialog summary:has-text('Sync options')")   # the grey arrow
        page.wait_for_selector("text=Loading jobs, tags and lists from CATS")
        run_worker()                               # reads CATS' jobs/tags/lists; the fieldset polls
        page.wait_for_selector("dialog select[name=tags]", timeout=10_000)
        first_tag = page.eval_on_selector("dialog select[name=tags] option", "o => o.value")
        page.select_option("dialog select[name=tags]", [first_tag])
        page.click("button:has-text('Create campaign')")
        page.wait_for_selector("h1:has-text('Data engineers')")
        page.click("#add-person summary")
        page.fill("#members input[name=first_name]", "Grace")
        page.fill("#members input[name=last_name]", "Hopper")
        page.fill("#members input[name=email]", "grace.hopper@example.com")
        page.click("button:has-text('Add to campaign')")
        page.wait_for_selector("#members .intent-status")
        run_worker()                               # the sync job; the member's status polls itself
        page.wait_for_selector("#members .intent-status .badge-ok", timeout=10_000)
        assert "Synced" in page.inner_text("#members")
        assert "Tags" in page.inner_text("#campaign-settings")
        page.screenshot(path=str(tmp_path / "campaign.png"), full_page=True)
        assert errors == []
        browser.close()
