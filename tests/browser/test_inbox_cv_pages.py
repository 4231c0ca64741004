"""The Inbox, the person page's CV card and the Account page's API tokens in a real browser
(Debian's Chromium through Playwright): an unmatched reply posted to the webhook shows up and is
assigned to its member with the keyboard; a CV is uploaded (and an executable refused with the
reason) through htmx; an API token is made and works against /api/v1.

Every page is screenshotted at 1280×800 and 390×844 (into $SHOTS_DIR when set, to look at)."""
from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
import requests
from browser_support import CHROMIUM, needs_chromium
from sqlalchemy import select

from core import db
from models import CvFile, InboundMessage, OutreachEvent, Team
from services import inbound
from services.enrolments import enrol
from sync_support import campaign, profile

pytestmark = [pytest.mark.browser, needs_chromium]

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
PDF = b"%PDF-1.4\n% Ada Lovelace, CV\n%%EOF\n"


def shoot(page, name: str, tmp_path: Path) -> None:
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


def test_inbox_person_cv_and_api_tokens(site, make_user, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    admin = make_user("admin")
    enrolment, _ = enrol(admin, campaign(admin, sync_as="none"), profile(1))
    person_id = enrolment.person_id
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        login(page, site, admin.email, "/inbox/")
        assert "No replies received yet" in page.inner_text("#inbox")
        assert "No secret yet" in page.inner_text("#webhook")
        shoot(page, "inbox-empty", tmp_path)
        page.click("#webhook button:has-text('Make a secret')")
        page.wait_for_selector("#hook-secret")
        secret = page.input_value("#hook-secret")
        assert secret.startswith("whsec_")

        r = requests.post(f"{site}/hooks/inbound-mail", headers={"X-Shoal-Secret": secret}, timeout=10, json={
            "from": "Ada Lovelace <ada1@example.com>", "subject": "Re: a Python role", "text": "Keen! CV attached.",
            "message_id": "<r1@mail.example>", "in_reply_to": "<not-ours@elsewhere>",
            "attachments": [{"filename": "Ada.pdf", "content": base64.b64encode(PDF).decode()},
                            {"filename": "run-me.pdf", "content": base64.b64encode(b"MZ\x90" + b"\0" * 64).decode()}]})
        assert r.json()["status"] == "unmatched"
        page.goto(f"{site}/inbox/")
        row = page.inner_text("#inbound-messages")
        assert "Keen! CV attached." in row and "CV kept" in row and "Windows program" in row
        shoot(page, "inbox-unmatched", tmp_path)
        page.focus(f"#assign-{r.json()['inbound_id']}")          # keyboard: the select, then its button
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Recorded as Ada1 Lovelace1's reply")
        db.session.expire_all()
        assert db.session.scalars(select(InboundMessage)).one().status == "assigned"
        assert db.session.scalars(select(OutreachEvent).where(OutreachEvent.kind == "reply")).one()
        page.goto(f"{site}/inbox/?show=assigned")
        shoot(page, "inbox-assigned", tmp_path)

        page.goto(f"{site}/people/{person_id}")
        assert "Ada.pdf" in page.inner_text("#cvs")          # the reply's CV became the person's
        exe = tmp_path / "cv.pdf"
        exe.write_bytes(b"MZ\x90\x00" + b"\0" * 200)
        page.set_input_files("#cv-file", str(exe))
        page.click("#cvs button:has-text('Upload CV')")
        page.wait_for_selector("#cvs .flash-error")
        assert "Windows program" in page.inner_text("#cvs")
        shoot(page, "person-cv-refused", tmp_path)
        good = tmp_path / "Ada Lovelace CV.pdf"
        good.write_bytes(PDF.replace(b"CV", b"CV 2026"))
        page.set_input_files("#cv-file", str(good))
        page.click("#cvs button:has-text('Upload CV')")
        page.wait_for_selector("#cvs .flash-success")
        assert "Ada Lovelace CV.pdf kept" in page.inner_text("#cvs")
        shoot(page, "person-cv", tmp_path)
        db.session.expire_all()
        assert len(db.session.scalars(select(CvFile).where(CvFile.person_id == person_id)).all()) == 2

        page.goto(f"{site}/account/")
        assert "No API tokens" in page.inner_text("#api-tokens")
        page.fill("#f-api_label", "Nightly export")
        page.click("#api-tokens button:has-text('Create API token')")
        page.wait_for_selector("#new-api-token")
        token = page.input_value("#new-api-token input")
        shoot(page, "account-api-tokens", tmp_path)
        assert requests.get(f"{site}/api/v1/people/", headers={"Authorization": f"Bearer {token}"},
                            timeout=10).json()[0]["has_cv"] is True
        assert not errors, errors
        browser.close()
    assert db.session.get(Team, admin.team_id).inbound_secret_hash == inbound._hash(secret)
