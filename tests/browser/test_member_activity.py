"""Recording activity and editing a person in a real browser (Debian's Chromium through Playwright):
on the campaign page, "Record activity" › Replied with a note swaps the member's cell in place with
the shared status fragment, which polls itself to "Synced" once the worker has created the CATS
candidate; the member's name leads to the person page, whose "Edit details" form shows a 422 in
place and then saves, and the manual edit appears on the timeline."""
from __future__ import annotations


import pytest
import requests
from browser_support import CHROMIUM, needs_chromium
from sync_support import campaign, connect, profile

from services import enrolments
pytestmark = [pytest.mark.browser, needs_chromium]


def test_record_a_reply_and_edit_details_in_the_browser(site, sandbox, make_user, run_worker, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    cats = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", cats)
    camp = campaign(user, sync_override={"add_candidate": "reply"})
    enrolment, _ = enrolments.enrol(user, camp, profile(21))
    run_worker()                                   # "added" does not fire "when they reply"
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{site}/campaigns/{camp.id}")
        page.fill("input[name=email]", user.email)
        page.fill("input[name=password]", "correct horse battery")
        page.click("button:has-text('Log in')")
        page.wait_for_url(f"{site}/campaigns/{camp.id}")

        cell = f"#member-{enrolment.id}-activity"
        page.click(f"{cell} summary")
        page.select_option(f"{cell} select[name=kind]", "reply")
        page.fill(f"{cell} textarea[name=note]", "Happy to chat on Friday")
        page.click(f"{cell} button:has-text('Record')")
        page.wait_for_selector(f"{cell} .intent-status")
        assert "Recorded: Replied." in page.inner_text(cell)
        assert page.url == f"{site}/campaigns/{camp.id}"   # swapped in place, no navigation
        run_worker()                               # creates the candidate; the fragment polls itself
        page.wait_for_selector(f"{cell} .intent-status .badge-ok", timeout=10_000)
        state = requests.get(f"{cats.base}/__sandbox/state", timeout=5).json()["tables"]
        assert [c["first_name"] for c in state["candidates"] if "ada21" in str(c)] == ["Ada21"]
        assert sum("Happy to chat on Friday" in a["notes"] for a in state.get("activities", [])) == 1
        page.screenshot(path=str(tmp_path / "member-activity.png"), full_page=True)

        page.click(f"#member-{enrolment.id} a:has-text('Ada21 Lovelace21')")
        page.wait_for_url(f"{site}/people/{enrolment.person_id}")
        page.click("#edit-details summary")
        page.fill("#p-first_name", "<b>Ada</b>")
        page.click("#edit-details button:has-text('Save')")   # 422: errors swapped in place
        page.wait_for_selector("#edit-details .field-error")
        page.fill("#p-first_name", "Ada")
        page.fill("#p-phone", "+44 20 7946 0021")
        page.click("#edit-details button:has-text('Save')")
        page.wait_for_selector("#person .flash-success")
        assert "Saved First name, Phone." in page.inner_text("#person")
        assert "Phone: +44 20 7946 0021" in page.inner_text("#timeline")
        page.screenshot(path=str(tmp_path / "person.png"), full_page=True)
        assert errors == []
        browser.close()
