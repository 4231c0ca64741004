"""The product's frame in Debian's Chromium: every main page at 390×844 and 1280×800, no page wider
than the window (no sideways scrolling on a phone), the top nav on one line at 1280, and the
small-screen "Menu" a keyboard-usable disclosure (Enter opens it, Escape closes it and gives focus
back), every link still in view without JavaScript. Screenshots of each page at both sizes go to $SHOTS_DIR when set (else tmp_path), to look at."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser_support import admin_page, log_in, needs_chromium
from sync_support import campaign, connect

from services import enrolments

pytestmark = [pytest.mark.browser, needs_chromium]

PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 800}
OVERFLOW = "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
# The nav links' rows (their tops, rounded) and the top bar's height.
NAV_ROWS = """() => {
  const tops = [...document.querySelectorAll('.topbar .nav a, .topbar .who-toggle')]
    .map(a => Math.round(a.getBoundingClientRect().top + a.getBoundingClientRect().height / 2));
  return [new Set(tops).size, document.querySelector('.topbar').getBoundingClientRect().height];
}"""


def pages(c, person) -> dict[str, str]:
    return {"campaigns": "/campaigns/", "campaign": f"/campaigns/{c.id}", "bulk-add": f"/campaigns/{c.id}/import",
            "sequence": f"/campaigns/{c.id}/sequence/", "people": "/people/", "person": f"/people/{person.id}",
            "integrations": "/integrations/", "integration-cats": "/integrations/cats", "search": "/search",
            "activity": "/activity", "inbox": "/inbox/", "tasks": "/tasks/", "account": "/account/",
            "team": "/team", "outreach": "/outreach/", "health": "/health"}


def test_every_main_page_fits_a_phone_and_the_nav_fits_one_line(site, sandbox, make_user, run_worker, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    admin = make_user("admin")
    connect(admin, "cats", sandbox("cats"))
    c = campaign(admin)
    enrolment, _ = enrolments.enrol(admin, c, {"first_name": "Grace", "last_name": "Hopper",
                                               "email": "grace.hopper@example.com", "company": "US Navy",
                                               "title": "Rear admiral and computer scientist"})
    run_worker()
    out = Path(os.environ.get("SHOTS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser, page, errors = admin_page(pw, site, admin.email, DESKTOP)

        wide: dict[str, tuple[int, int]] = {}
        for name, path in pages(c, enrolment.person).items():
            page.set_viewport_size(DESKTOP)
            page.goto(f"{site}{path}")
            rows, height = page.evaluate(NAV_ROWS)
            assert rows == 1 and height < 64, f"{name}: the top bar takes {rows} lines ({height}px) at 1280"
            scroll, inner = page.evaluate(OVERFLOW)
            assert scroll <= inner, f"{name} is {scroll}px wide in a {inner}px window at 1280"
            page.screenshot(path=str(out / f"{name}-desktop.png"), full_page=True)
            page.set_viewport_size(PHONE)
            page.wait_for_timeout(50)
            scroll, inner = page.evaluate(OVERFLOW)
            if scroll > inner:
                wide[name] = (scroll, inner)
            page.screenshot(path=str(out / f"{name}-phone.png"), full_page=True)
        assert not wide, f"pages wider than a 390px phone (scrollWidth, innerWidth): {wide}"

        # The account menu at 1280: a disclosure under the name (Account, Settings, Log out).
        page.set_viewport_size(DESKTOP)
        page.goto(f"{site}/campaigns/")
        account = page.locator("#account-menu")
        expect(account).to_be_hidden()
        page.click(".who-toggle")
        expect(account).to_be_visible()
        expect(page.locator(".who-toggle")).to_have_attribute("aria-expanded", "true")
        page.keyboard.press("Escape")
        expect(account).to_be_hidden()
        page.screenshot(path=str(out / "nav-desktop.png"))

        # The phone's "Menu": hidden links until opened, by keyboard too, Escape gives focus back.
        page.set_viewport_size(PHONE)
        nav = page.locator("#site-menu")
        toggle = page.locator(".menu-toggle")
        expect(toggle).to_be_visible()
        expect(nav).to_be_hidden()
        toggle.focus()
        page.keyboard.press("Enter")
        expect(nav).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(page.locator("#site-menu a:has-text('Log out'), #site-menu button:has-text('Log out')")).to_be_visible()
        page.screenshot(path=str(out / "nav-phone-open.png"), full_page=True)
        scroll, inner = page.evaluate(OVERFLOW)
        assert scroll <= inner, f"the open menu is {scroll}px wide in a {inner}px window"
        page.keyboard.press("Escape")
        expect(nav).to_be_hidden()
        assert page.evaluate("() => document.activeElement.classList.contains('menu-toggle')")
        toggle.click()
        page.click("#site-menu >> text=People")
        page.wait_for_url(f"{site}/people/")
        expect(page.locator("#site-menu")).to_be_hidden()
        assert errors == []

        # Without JavaScript (static/nojs.css): no menu button, every link in view.
        context = browser.new_context(viewport=PHONE, java_script_enabled=False)
        bare = context.new_page()
        log_in(bare, site, admin.email)
        expect(bare.locator(".menu-toggle")).to_be_hidden()
        for label in ("People", "Team", "Account"):
            expect(bare.locator(f"#site-menu a:has-text('{label}')")).to_be_visible()
        expect(bare.locator("#site-menu button:has-text('Log out')")).to_be_visible()
        bare.screenshot(path=str(out / "nav-phone-nojs.png"), full_page=True)
        browser.close()
