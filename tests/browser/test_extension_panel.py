"""The whole side panel in Debian's Chromium with the unpacked extension, on the fixture profile page
served at its real https URL, against the real app, a real `flask worker` process and the CRM
simulators: capture, correct a field, pick a campaign, change Sync as, open the grey arrow, pick a
job and two tags, fill a mandatory custom field, see the duplicate-company warning and choose the
existing company (CATS; SmartRecruiters and Pinpoint have no companies), Preview, Add, Synced, and
the tags, custom field value, job and company in the simulator's state. Also: the panel follows
LinkedIn's in-page navigation, and hostile pages don't break it."""
from __future__ import annotations

import os

import pytest
import requests
from browser_support import needs_chromium
from test_extension import (FIXTURE, PROFILE_URL, SCREENSHOT, extension_id, extension_worker, launch,  # noqa: F401
                            serve_linkedin_fixture, worker_process)

from core import db
from models import Campaign, SettingsLayer
from sync_support import connect, sandbox_state, tag_a_pinpoint_application

pytestmark = [pytest.mark.browser, needs_chromium]
ADA_EMAIL = "ada.example@example.com"
# (provider, campaign's sync as, the panel's sync as, mandatory text field, displayed other field)
CRMS = {"cats": ("contact", "candidate", "Notice period", "Right to work"),
        "smartrecruiters": ("none", "candidate", "Sourced by", "Open to relocation"),
        "pinpoint": ("none", "application", "Notice period", "Right to work")}


def _field_key(server, key: str, label: str) -> str:
    tables = sandbox_state(server)["tables"]
    table = {"cats": "custom_field_defs", "smartrecruiters": "properties", "pinpoint": "custom_fields"}[key]
    row = next(r for r in tables[table] if label in (r.get("name"), r.get("label")))
    return f"custom:{row.get('uid') or row['id'] if key == 'smartrecruiters' else row['id']}"


def _team(sandbox, make_user, key: str):
    server = sandbox(key)
    requests.post(f"{server.base}/__sandbox/rate_limit", json={"calls": 0}, timeout=5).raise_for_status()
    user = make_user("recruiter")
    conn = connect(user, key, server)
    camp_as, rt, mandatory, other = CRMS[key]
    mandatory_key, other_key = _field_key(server, key, mandatory), _field_key(server, key, other)
    db.session.add(SettingsLayer(team_id=user.team_id, user_id=None, provider_key=key, values={
        f"mandatory_fields.{rt}": [mandatory_key], f"displayed_fields.{rt}": [other_key]}))
    campaign = Campaign(team_id=user.team_id, owner_id=user.id, name="Data engineers Q3", sync_as=camp_as,
                        sync_override={f"add_{t.key}": "added" for t in conn_types(key)})
    db.session.add(campaign)
    db.session.commit()
    if key == "pinpoint":
        tag_a_pinpoint_application(server)
    from services.tokens import issue_token
    _row, token = issue_token(user)
    return server, user, token, mandatory_key, other_key


def conn_types(key: str):
    from providers import get_provider
    return get_provider(key).record_types


def _open_panel(context, site: str, token: str, body: bytes | None = None):
    worker = extension_worker(context)
    worker.evaluate(f"() => chrome.storage.local.set({{serverUrl: {site!r}, token: {token!r}}})")
    page = context.new_page()
    serve_linkedin_fixture(context, page, body)
    page.goto(PROFILE_URL)
    return page, page.frame_locator("#shoal-panel")


@pytest.mark.parametrize("key", list(CRMS))
def test_the_whole_panel_pushes_options_fields_and_company(app, site, sandbox, make_user, worker_process,
                                                           tmp_path, key):
    from playwright.sync_api import expect, sync_playwright

    server, user, token, mandatory_key, other_key = _team(sandbox, make_user, key)
    _camp_as, rt, mandatory_label, _other = CRMS[key]
    db.session.commit()
    with sync_playwright() as pw:
        context = launch(pw, tmp_path / "chrome-profile")
        try:
            page, panel = _open_panel(context, site, token)
            expect(panel.locator(".person-name")).to_have_text("Ada Example", timeout=15_000)
            # Correct a field: the recruiter knows the company by its short name.
            panel.get_by_text("Details").click()
            panel.locator("#f-company").fill("Acme")
            panel.locator("#f-company").dispatch_event("change")
            panel.locator("#campaign-picker").select_option(label="Data engineers Q3")
            panel.locator("#sync-as").select_option(value=rt)
            panel.locator("#options-toggle").click()
            expect(panel.locator("#panel-options")).to_be_visible()
            job = panel.locator("#opt-job_id")
            expect(job).to_be_visible(timeout=60_000)          # the worker (just started) loaded the choices
            job_label = job.locator("option").nth(1).inner_text()
            job.select_option(index=1)
            tags = panel.locator("#opt-tags option")
            two = [tags.nth(i).inner_text() for i in range(2)]
            panel.locator("#opt-tags").select_option(label=two)
            field = panel.locator(f'[name="x:{mandatory_key}"]')
            expect(field).to_be_visible(timeout=20_000)
            expect(panel.locator("#panel-mandatory")).to_contain_text(mandatory_label)
            field.fill("Four weeks")
            if key == "cats":
                warning = panel.locator(".company-warning")
                expect(warning).to_contain_text("has no company named “Acme”", timeout=20_000)
                panel.locator('input[name=company_choice][value="Acme Ltd"]').check()
                expect(panel.locator(".company-warning")).to_contain_text("Using the existing CATS company")
            else:
                expect(panel.locator("#panel-company")).to_have_count(0)
            panel.get_by_role("button", name="Preview").click()
            preview = panel.locator("#panel-preview")
            expect(preview).to_contain_text(job_label.split(" · ")[0])
            expect(preview).to_contain_text(", ".join(two))
            expect(preview).to_contain_text("Four weeks")
            if key == "cats":
                expect(preview).to_contain_text("Company: Acme Ltd (chosen")
                shot = SCREENSHOT if os.environ.get("SHOAL_UPDATE_SCREENSHOTS") else tmp_path / "panel-full.png"
                page.set_viewport_size({"width": 1280, "height": 2000})
                page.evaluate("document.getElementById('shoal-panel').style.height = '1900px'")
                panel.locator("body").evaluate("() => window.scrollTo(0, 0)")
                page.wait_for_timeout(300)
                page.screenshot(path=str(shot))
            panel.get_by_role("button", name="Add").click()
            expect(panel.locator("#panel-added")).to_contain_text("Added Ada Example", timeout=10_000)
            expect(panel.locator("#panel-result")).to_contain_text("Synced", timeout=60_000)
        finally:
            context.close()

    tables = sandbox_state(server)["tables"]
    value_key = mandatory_key.split(":", 1)[1]
    if key == "cats":
        [cand] = [c for c in tables["candidates"] if c["emails"]["primary"] == ADA_EMAIL]
        assert cand["custom_fields"][value_key] == "Four weeks"
        tag_ids = {str(t["id"]): t["name"] for t in tables["tags"]}
        assert sorted(tag_ids[str(t)] for t in cand["tag_ids"]) == sorted(two)
        jobs = {j["id"]: j["title"] for j in tables["jobs"]}
        assert [jobs[p["job_id"]] for p in tables["pipelines"] if p["candidate_id"] == cand["id"]] == \
            [job_label.split(" · ")[0]]
        assert cand["current_employer"] == "Acme Ltd"      # the existing company's exact name
    elif key == "smartrecruiters":
        [cand] = [c for c in tables["candidates"] if c["email"] == ADA_EMAIL]
        assert sorted(cand["tags"]) == sorted(two)
        assert "Four weeks" in str(cand.get("properties"))
        jobs = {j["id"]: j["title"] for j in tables["jobs"]}
        assert [jobs[a["job_id"]] for a in tables["assignments"] if a["candidate_id"] == cand["id"]] == \
            [job_label.split(" · ")[0]]
    else:
        [cand] = [c for c in tables["candidates"] if c["email"] == ADA_EMAIL]
        [application] = [a for a in tables["applications"] if a["candidate_id"] == cand["id"]]
        jobs = {j["id"]: j["title"] for j in tables["jobs"]}
        assert jobs[application["job_id"]] == job_label.split(" · ")[0]
        assert sorted(t["name"] for t in application["tags"]) == sorted(two)
        assert any(a["value"] == "Four weeks" for a in tables["custom_attributes"])


SECOND = (FIXTURE.read_text().replace("Ada Example", "Bob Second").replace("ada-example", "bob-second")
          .replace("ada.example@example.com", "bob.second@example.com"))


def test_panel_follows_linkedins_in_page_navigation(app, site, sandbox, make_user, tmp_path):
    """LinkedIn changes profile without a page load (pushState, then the DOM, a moment later): the
    panel drops the previous person at once and shows the new one, never the old one with the new URL."""
    from playwright.sync_api import expect, sync_playwright

    _server, _user, token, _m, _o = _team(sandbox, make_user, "cats")
    db.session.commit()
    with sync_playwright() as pw:
        context = launch(pw, tmp_path / "chrome-profile")
        try:
            page, panel = _open_panel(context, site, token)
            expect(panel.locator(".person-name")).to_have_text("Ada Example", timeout=15_000)
            page.evaluate("history.pushState({}, '', '/in/bob-second/')")
            expect(panel.locator("#panel-loading")).to_have_text("Loading the next profile…", timeout=3_000)
            expect(panel.locator(".person-name")).to_have_count(0)
            page.wait_for_timeout(4000)        # the old DOM lingers, as on LinkedIn: still not shown
            expect(panel.locator(".person-name")).to_have_count(0)
            page.evaluate("""() => {
                document.querySelector('h1').textContent = 'Bob Second';
                document.querySelector('a[href^="mailto:"]').setAttribute('href', 'mailto:bob.second@example.com');
            }""")
            expect(panel.locator(".person-name")).to_have_text("Bob Second", timeout=5_000)
            expect(panel.locator("#enrol-form input[name=linkedin_url]")).to_have_value(
                "https://www.linkedin.com/in/bob-second/")
            expect(panel.locator("#enrol-form input[name=email]")).to_have_value("bob.second@example.com")
            # Back to the first profile: Ada again, never Bob with Ada's URL.
            page.go_back()
            page.evaluate("document.querySelector('h1').textContent = 'Ada Example'")
            expect(panel.locator(".person-name")).to_have_text("Ada Example", timeout=5_000)
        finally:
            context.close()


def _hostile_page() -> bytes:
    """Markup as text in every captured field (what textContent would hand over), real markup and a
    script in the DOM, and a 5 MB page."""
    html = FIXTURE.read_text()
    text_markup = "&lt;img src=x onerror=alert(1)&gt;"
    html = html.replace(">Ada Example</h1>", f">Ada {text_markup}<script>window.pwned=1</script></h1>")
    html = html.replace("Principal Data Engineer at Acme Analytics Ltd",
                        "&lt;script&gt;alert(1)&lt;/script&gt; Boss at <i>Evil &lt;b&gt;Corp&lt;/b&gt;</i>")
    html = html.replace("Bristol, England, United Kingdom", "&lt;iframe src=//evil&gt;")
    filler = "<div class='noise'>" + ("<span>lorem ipsum dolor sit amet</span>" * 140_000) + "</div>"
    return html.replace("</main>", filler + "</main>").encode()


def test_hostile_pages_never_break_the_panel_or_inject_markup(app, site, sandbox, make_user, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    _server, _user, token, _m, _o = _team(sandbox, make_user, "cats")
    db.session.commit()
    body = _hostile_page()
    assert len(body) > 5_000_000
    with sync_playwright() as pw:
        context = launch(pw, tmp_path / "chrome-profile")
        try:
            page, panel = _open_panel(context, site, token, body)
            card = panel.locator("#panel-card")
            expect(card).to_be_visible(timeout=20_000)
            # A name with markup is refused by the server's validation and said so; other fields are
            # shown as text, never as markup.
            expect(panel.locator("#panel-person")).to_contain_text("Must not contain < or >")
            expect(panel.locator(".person-title")).to_contain_text("<script>alert(1)</script> Boss")
            expect(panel.locator("#panel-person img, #panel-person script, #panel-person iframe, "
                                 "#panel-person b")).to_have_count(0)
            frame = page.frame_locator("#shoal-panel").locator("body")
            assert frame.evaluate("() => window.pwned === undefined")
            # A page with no name at all: the panel asks for the details instead of failing.
            page2 = context.new_page()
            serve_linkedin_fixture(context, page2, FIXTURE.read_bytes().replace(b">Ada Example</h1>", b"></h1>"))
            page2.goto(PROFILE_URL)
            page2.wait_for_timeout(2000)
            assert page2.locator("#shoal-panel").count() == 0      # nothing to show until a name appears
            page2.evaluate("document.querySelector('h1').textContent = 'Late Name'")
            expect(page2.frame_locator("#shoal-panel").locator(".person-name")).to_have_text("Late Name",
                                                                                           timeout=10_000)
        finally:
            context.close()
