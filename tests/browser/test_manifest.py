"""Static checks of the unpacked extension that need no browser: the manifest is complete, its
`key` pins the id the server allows, and no page relies on what MV3's CSP forbids."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

from config import Config

EXTENSION = Path(__file__).resolve().parents[2] / "extension"
STATIC = Path(__file__).resolve().parents[2] / "static"


def manifest() -> dict:
    return json.loads((EXTENSION / "manifest.json").read_text())


def extension_id_from_key(key_b64: str) -> str:
    """Chrome's rule: the first 32 hex digits of SHA-256(public key DER), mapped 0-f → a-p."""
    digest = hashlib.sha256(base64.b64decode(key_b64)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def test_manifest_key_pins_the_allowed_extension_id():
    m = manifest()
    assert m["manifest_version"] == 3
    assert extension_id_from_key(m["key"]) == Config.EXTENSION_IDS[0]


def test_manifest_references_existing_files():
    m = manifest()
    referenced = [m["background"]["service_worker"], m["side_panel"]["default_path"], m["options_ui"]["page"]]
    for script in m["content_scripts"]:
        referenced += script["js"]
    for entry in m["web_accessible_resources"]:
        referenced += entry["resources"]
    for name in referenced:
        assert (EXTENSION / name).is_file(), name
    assert set(m["permissions"]) == {"storage", "sidePanel"}
    assert m["content_scripts"][0]["matches"] == ["https://www.linkedin.com/in/*"]


def test_pages_load_only_local_scripts_and_no_eval():
    for page in EXTENSION.glob("*.html"):
        html = page.read_text()
        for src in re.findall(r"<script[^>]*\ssrc=\"([^\"]+)\"", html):
            assert (EXTENSION / src).is_file() and "://" not in src, (page.name, src)
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), f"inline script in {page.name}"
        assert "hx-on" not in html and "js:" not in html, page.name
    for script in EXTENSION.glob("*.js"):
        source = script.read_text()
        assert "eval(" not in source and "new Function" not in source, script.name
        assert len(source.splitlines()) <= 110, f"{script.name} should stay small"


def test_panel_css_copies_match():
    assert (EXTENSION / "panel.css").read_text() == (STATIC / "panel.css").read_text()
    # One source: the server's copy is a link to the extension's file, not a second copy to keep in step.
    assert (STATIC / "panel.css").resolve() == (EXTENSION / "panel.css").resolve()
