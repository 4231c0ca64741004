"""The whole recruiter path in a real browser: Debian's Chromium loads the unpacked extension, a
LinkedIn-like page is served at its real https URL, the injected panel (an extension page) talks to
the real Flask app with the bearer token, the worker syncs to the CATS sandbox, and the panel's
self-polling status ends on "Synced". See ../shared/notes/browser-testing.md for why it is built so.

The fixture page is served through CDP `Fetch` rather than `context.route`: while a Playwright route
is active, Playwright answers CORS preflights itself, and this test means to exercise the server's."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from browser_support import CHROMIUM, needs_chromium

from sandbox import cats as cats_sandbox
from crypto import encrypt_credentials
from core import db
from models import Campaign, Connection, CrmLink
from services.tokens import issue_token

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extension"
FIXTURE = ROOT / "tests" / "fixtures" / "linkedin_profile.html"
# The README screenshot is refreshed only on request, so a test run leaves the work tree clean.
SCREENSHOT = ROOT / "docs" / "screenshot-panel.png"
PROFILE_URL = "https://www.linkedin.com/in/ada-example/"
ADA_EMAIL = "ada.example@example.com"

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def worker_process(app):
    """A real `flask worker` in its own process, on the test's database and Redis, as in production."""
    redis_url = app.config["REDIS_STORAGE_URI"].replace("redis+unix://", "unix://")
    env = {**os.environ, "FLASK_APP": "app", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "REDIS_URL": redis_url, "CREDENTIALS_KEY": app.config["CREDENTIALS_KEY"],
           "SECRET_KEY": app.config["SECRET_KEY"], "CRM_HOST_ALLOWLIST": app.config["CRM_HOST_ALLOWLIST"]}
    flask_cli = Path(sys.executable).with_name("flask")
    proc = subprocess.Popen([str(flask_cli), "worker", "--sweep-every", "0", "--processes", "1"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield proc
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    print(out[-4000:])  # shown by pytest only when the test fails


@pytest.fixture
def team_on_cats(sandbox, make_user):
    """A recruiter whose team is connected to the CATS sandbox, a campaign that syncs people as
    candidates when they are added, and an extension token."""
    cats = sandbox("cats")
    user = make_user("recruiter")
    conn = Connection(team_id=user.team_id, provider_key="cats", status="connected",
                      base_url=cats.base + cats_sandbox.API_ROOT,
                      credentials_encrypted=encrypt_credentials(cats_sandbox.DEFAULT_CREDENTIALS))
    campaign = Campaign(team_id=user.team_id, owner_id=user.id, name="Data engineers Q3", sync_as="candidate",
                        sync_override={"add_candidate": "added"})
    db.session.add_all([conn, campaign])
    db.session.commit()
    _row, token = issue_token(user)
    return {"cats": cats, "user": user, "conn": conn, "campaign": campaign, "token": token}


def extension_id() -> str:
    from config import Config
    return Config.EXTENSION_IDS[0]


def extension_worker(context):
    """The extension's service worker (it may start before or after Playwright attaches)."""
    return context.service_workers[0] if context.service_workers else context.wait_for_event("serviceworker")


def launch(pw, user_data_dir: Path):
    return pw.chromium.launch_persistent_context(
        str(user_data_dir), executable_path=CHROMIUM, headless=False,
        args=["--headless=new", "--no-sandbox", "--disable-gpu",
              f"--disable-extensions-except={EXTENSION}", f"--load-extension={EXTENSION}",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--no-first-run"],
        ignore_default_args=["--disable-extensions"], viewport={"width": 1280, "height": 800})


def serve_linkedin_fixture(context, page, body: bytes | None = None) -> None:
    """Answer https://www.linkedin.com/* on this page from the fixture file (no network here)."""
    cdp = context.new_cdp_session(page)
    html = base64.b64encode(FIXTURE.read_bytes() if body is None else body).decode()

    def paused(event):
        is_profile = event["request"]["url"].rstrip("/") == PROFILE_URL.rstrip("/")
        headers = [{"name": "Content-Type", "value": "text/html; charset=utf-8"},
                   # A strict page CSP, as LinkedIn has: the extension's iframe must survive it.
                   {"name": "Content-Security-Policy",
                    "value": "default-src 'self'; style-src 'unsafe-inline'; img-src data:; "
                             "frame-src 'none'"}]
        cdp.send("Fetch.fulfillRequest", {"requestId": event["requestId"],
                                          "responseCode": 200 if is_profile else 404,
                                          "responseHeaders": headers, "body": html if is_profile else ""})

    cdp.on("Fetch.requestPaused", paused)
    cdp.send("Fetch.enable", {"patterns": [{"urlPattern": "https://www.linkedin.com/*",
                                            "requestStage": "Request"}]})


def test_add_from_linkedin_profile_syncs_to_cats(app, site, team_on_cats, worker_process, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    campaign_name = team_on_cats["campaign"].name
    db.session.commit()  # no open transaction while the server thread writes (SQLite locks)
    with sync_playwright() as pw:
        context = launch(pw, tmp_path / "chrome-profile")
        try:
            worker = extension_worker(context)
            assert f"chrome-extension://{extension_id()}/" in worker.url, "the manifest key must pin the id"

            # Options page: the user pastes the server address and token, then tests them.
            options = context.new_page()
            options.goto(f"chrome-extension://{extension_id()}/options.html")
            options.fill("#server-url", site)
            options.fill("#token", team_on_cats["token"])
            options.click("button[type=submit]")
            expect(options.locator("#status")).to_have_text("Saved.")
            options.click("#test")
            expect(options.locator("#status")).to_contain_text(f"Connected as {team_on_cats['user'].email}")
            options.close()

            page = context.new_page()
            serve_linkedin_fixture(context, page)
            page.goto(PROFILE_URL)
            panel = page.frame_locator("#shoal-panel")
            expect(panel.locator(".person-name")).to_have_text("Ada Example", timeout=15_000)
            expect(panel.locator(".person-title")).to_have_text("Principal Data Engineer")
            expect(panel.locator(".person-company")).to_have_text("Acme Analytics Ltd")
            expect(panel.locator("#enrol-form input[name=email]")).to_have_value(ADA_EMAIL)
            panel.locator("#campaign-picker").select_option(label=campaign_name)
            panel.get_by_role("button", name="Preview").click()
            expect(panel.locator("#panel-preview")).to_contain_text("Create Candidate in CATS")
            panel.get_by_role("button", name="Add").click()
            expect(panel.locator("#panel-added")).to_contain_text("Added Ada Example", timeout=10_000)

            # The worker process picks the job up; the panel polls its status fragment on its own.
            expect(panel.locator("#panel-result")).to_contain_text("Synced", timeout=60_000)
            shot = tmp_path / "panel.png"     # the README picture is test_extension_panel.py's
            page.screenshot(path=str(shot))

            # The service worker keeps the profile per tab for the side panel; panel.html outside a
            # frame (the side panel's shell, here in a tab) shows the last one, now with its CRM link.
            kept = worker.evaluate("() => chrome.storage.session.get(null)")
            assert kept[f"profile:{kept['lastTabId']}"]["email"] == ADA_EMAIL
            side = context.new_page()
            side.goto(f"chrome-extension://{extension_id()}/panel.html")
            expect(side.locator(".person-name")).to_have_text("Ada Example", timeout=10_000)
            expect(side.locator("#panel-match")).to_contain_text("as Candidate #")
            expect(side.locator("#panel-match")).to_contain_text(f"In: {campaign_name}")
        finally:
            context.close()

    state = requests.get(f"{team_on_cats['cats'].base}/__sandbox/state", timeout=5).json()
    candidates = [c for c in state["tables"].get("candidates", [])
                  if (c.get("emails") or {}).get("primary") == ADA_EMAIL]
    assert len(candidates) == 1, json.dumps(state["tables"].get("candidates"), indent=1)[:2000]
    assert candidates[0].get("first_name") == "Ada" and candidates[0].get("last_name") == "Example"
    db.session.expire_all()
    link = db.session.query(CrmLink).one()
    assert link.record_type == "candidate" and link.remote_id == str(candidates[0]["id"])


def test_panel_without_a_token_says_where_to_get_one(app, site, tmp_path):
    """A wrong token: the options page's Test says so, and the server's 401 fragment (readable
    cross-origin, swapped despite the 4xx) tells the recruiter what to do."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        context = launch(pw, tmp_path / "chrome-profile")
        try:
            options = context.new_page()
            options.goto(f"chrome-extension://{extension_id()}/options.html")
            options.fill("#server-url", site)
            options.fill("#token", "shoal_not-a-real-token")
            options.click("button[type=submit]")
            options.click("#test")
            expect(options.locator("#status")).to_contain_text("Test failed: Shoal doesn't know this")
            page = context.new_page()
            serve_linkedin_fixture(context, page)
            page.goto(PROFILE_URL)
            error = page.frame_locator("#shoal-panel").locator("#panel-error")
            expect(error).to_contain_text("Account page", timeout=15_000)
            expect(error).to_have_attribute("data-status", "401")
        finally:
            context.close()


def test_details_shown_later_reach_the_panel(app, site, make_user, tmp_path):
    """LinkedIn shows the email only in the contact-info overlay, after load: the panel gets it then."""
    from playwright.sync_api import expect, sync_playwright

    _row, token = issue_token(make_user("recruiter"))
    html = FIXTURE.read_text()
    start = html.index('<section class="artdeco-card pv-contact-info"')
    end = html.index('<section class="artdeco-card" id="experience"')
    with sync_playwright() as pw:
        context = launch(pw, tmp_path / "chrome-profile")
        try:
            extension_worker(context).evaluate(
                "([server, token]) => chrome.storage.local.set({serverUrl: server, token})",
                [site, token])
            page = context.new_page()
            serve_linkedin_fixture(context, page, (html[:start] + html[end:]).encode())
            page.goto(PROFILE_URL)
            panel = page.frame_locator("#shoal-panel")
            expect(panel.locator(".person-name")).to_have_text("Ada Example", timeout=15_000)
            expect(panel.locator("#enrol-form input[name=email]")).to_have_value("")
            page.evaluate("""() => {
                const a = document.createElement("a");
                a.href = "mailto:ada.example@example.com";
                a.textContent = "ada.example@example.com";
                document.querySelector("main").append(a);
            }""")
            expect(panel.locator("#enrol-form input[name=email]")).to_have_value(ADA_EMAIL, timeout=5_000)
        finally:
            context.close()


def side_panel_text(context, page, wanted: str, timeout: float = 10.0) -> str:
    """The real Chrome side panel's text, read over CDP (Playwright doesn't list it among pages):
    attach to its target and evaluate `document.body.innerText` until `wanted` shows up."""
    cdp = context.new_cdp_session(page)
    targets = cdp.send("Target.getTargets")["targetInfos"]
    target = next(t for t in targets if t["url"] == f"chrome-extension://{extension_id()}/panel.html")
    replies: list[dict] = []
    cdp.on("Target.receivedMessageFromTarget", lambda event: replies.append(json.loads(event["message"])))
    attached = cdp.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": False})
    session = attached["sessionId"]
    text, deadline, n = "", time.monotonic() + timeout, 0
    while wanted not in text and time.monotonic() < deadline:
        n += 1
        cdp.send("Target.sendMessageToTarget", {"sessionId": session, "message": json.dumps(
            {"id": n, "method": "Runtime.evaluate",
             "params": {"expression": "document.body.innerText", "returnByValue": True}})})
        page.wait_for_timeout(250)
        text = next((r["result"]["result"].get("value") or "" for r in replies if r.get("id") == n), text)
    cdp.detach()
    return text


def test_side_panel_shows_the_profile_of_the_active_tab(app, site, make_user, tmp_path):
    """"Side panel" moves the in-page panel into Chrome's side panel, which follows the active tab."""
    from playwright.sync_api import expect, sync_playwright

    _row, token = issue_token(make_user("recruiter"))
    with sync_playwright() as pw:
        context = launch(pw, tmp_path / "chrome-profile")
        try:
            worker = extension_worker(context)
            worker.evaluate("([server, token]) => chrome.storage.local.set({serverUrl: server, token})",
                            [site, token])
            page = context.new_page()
            serve_linkedin_fixture(context, page)
            page.goto(PROFILE_URL)
            panel = page.frame_locator("#shoal-panel")
            expect(panel.locator(".person-name")).to_have_text("Ada Example", timeout=15_000)
            panel.get_by_role("button", name="Side panel").click()
            expect(page.locator("#shoal-panel")).to_have_count(0)
            assert "Ada Example" in side_panel_text(context, page, "Ada Example")

            other = context.new_page()
            other.bring_to_front()
            assert "No profile captured" in side_panel_text(context, other, "No profile captured")
            page.bring_to_front()
            assert "Ada Example" in side_panel_text(context, page, "Ada Example")
        finally:
            context.close()


def test_options_keep_what_the_user_typed_before_the_stored_values_arrived(tmp_path):
    """chrome.storage answers asynchronously: values typed before it does are kept, not swapped
    for the stored ones (once a silent switch back to the default address, and a failed Test)."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        context = launch(pw, tmp_path / "chrome-profile")
        try:
            extension_worker(context).evaluate(
                "() => chrome.storage.local.set({serverUrl: 'https://old.example', token: 'shoal_old'})")
            # Storage as slow as it can be on a busy machine: its answer comes after the typing.
            context.add_init_script("""(() => {
                const local = globalThis.chrome && chrome.storage && chrome.storage.local;
                if (!local) return;
                const get = local.get.bind(local);
                local.get = (keys) => new Promise((resolve) => {
                    // Resolves once the page's own callback has run (a task after the answer).
                    window.__releaseStorage = () => get(keys).then((stored) => {
                        resolve(stored);
                        return new Promise((done) => setTimeout(done, 50));
                    });
                });
            })()""")
            options = context.new_page()
            options.goto(f"chrome-extension://{extension_id()}/options.html")
            options.fill("#server-url", "http://127.0.0.1:5999")
            options.fill("#token", "shoal_typed")
            options.evaluate("() => window.__releaseStorage()")
            expect(options.locator("#server-url")).to_have_value("http://127.0.0.1:5999")
            expect(options.locator("#token")).to_have_value("shoal_typed")
            fresh = context.new_page()   # untouched fields do show what is stored
            fresh.goto(f"chrome-extension://{extension_id()}/options.html")
            fresh.evaluate("() => window.__releaseStorage()")
            expect(fresh.locator("#server-url")).to_have_value("https://old.example")
            expect(fresh.locator("#token")).to_have_value("shoal_old")
        finally:
            context.close()
