"""Where Debian's Chromium lives, and the mark that skips a browser test without it."""
from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery"   # make_user's (tests/conftest.py)
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason=f"{CHROMIUM} is not installed (apt-get install chromium)")


def admin_page(pw, site: str, email: str, viewport: dict[str, int], password: str = PASSWORD):
    """Chromium, one page at `viewport` logged in as `email` (the suite's password unless given),
    and the list its uncaught page errors collect into: (browser, page, errors)."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
    page = browser.new_page(viewport=viewport)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, site, email, password)
    return browser, page, errors


def log_in(page, site: str, email: str, password: str = PASSWORD) -> None:
    """Log in through the form (the suite's password unless given) and land on the campaigns."""
    page.goto(f"{site}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{site}/campaigns/")
