"""Inline validation in Debian's Chromium: a connect-form field and an integration setting are checked
as the admin leaves them (htmx posts the form to the field's validate endpoint on change; the
answer is that field's message slot), with the same checks a save makes, and nothing is saved."""
from __future__ import annotations

import pytest
from browser_support import admin_page, needs_chromium
from sqlalchemy import func, select

from core import db, get_redis
from crypto import encrypt_credentials
from models import Connection, SettingsLayer

pytestmark = [pytest.mark.browser, needs_chromium]


def test_fields_are_checked_as_the_admin_leaves_them(site, sandbox, make_user, run_worker, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    from sandbox.cats import API_ROOT, DEFAULT_CREDENTIALS
    cats = sandbox("cats")
    admin = make_user("admin")
    with sync_api.sync_playwright() as pw:
        browser, page, errors = admin_page(pw, site, admin.email, {"width": 1280, "height": 800})

        # The connect form: a subdomain with a dot is refused as the admin tabs away, before Activate.
        page.goto(f"{site}/integrations/pinpoint")
        page.fill("#connect-form input[name=subdomain]", "acme.evil.example")
        page.press("#connect-form input[name=subdomain]", "Tab")
        slot = page.locator("#f-subdomain-errors")
        expect(slot).to_contain_text("Enter the subdomain only")
        page.screenshot(path=str(tmp_path / "connect-inline-error.png"))
        page.fill("#connect-form input[name=subdomain]", "acme")
        page.press("#connect-form input[name=subdomain]", "Tab")
        expect(slot).to_have_text("")
        assert db.session.scalar(select(func.count()).select_from(Connection)) == 0

        # A setting: with the CRM's options gone stale, a changed field value can't be checked and
        # says so in its row as soon as it is changed, not only on Save.
        conn = Connection(team_id=admin.team_id, provider_key="cats", base_url=cats.base + API_ROOT,
                          credentials_encrypted=encrypt_credentials(DEFAULT_CREDENTIALS), status="connected")
        db.session.add(conn)
        db.session.commit()
        page.goto(f"{site}/integrations/cats?for=team")
        run_worker()                                            # the CRM's fields, statuses, note types
        expect(page.locator("#crm-options")).to_contain_text("loaded from CATS", timeout=15_000)
        get_redis().delete(f"shoal:settings-options:{conn.id}")
        page.locator("#row-displayed_fields-candidate input[type=checkbox]").first.check()
        row_slot = page.locator("#row-displayed_fields-candidate-errors")
        expect(row_slot).to_contain_text("refresh the options from CATS")
        page.locator("#row-displayed_fields-candidate").scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / "setting-inline-error.png"))
        red = "() => getComputedStyle(document.querySelector('#row-displayed_fields-candidate')).backgroundColor"
        assert page.evaluate(red) == "rgb(255, 235, 233)"            # the row turns red with its message
        page.locator("#row-displayed_fields-candidate input[type=checkbox]").first.uncheck()
        expect(row_slot).to_have_text("")                             # back as it was: nothing to say
        assert page.evaluate(red) == "rgba(0, 0, 0, 0)"
        assert db.session.scalar(select(func.count()).select_from(SettingsLayer)) == 0
        assert errors == []
        browser.close()
