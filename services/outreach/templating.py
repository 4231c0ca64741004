"""Step templates: subject and body with person and sender variables, written as `{{ first_name }}`.

Rendered by Jinja's sandbox with StrictUndefined, so a template can't reach Python objects and a
variable that doesn't exist is an error. `check()` runs when a step is saved: a syntax error, an
unknown variable or a subject with a line break is refused there, never discovered at send time.
The HTML body is optional: without one it is made from the plain text (escaped, paragraphs kept).
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

# Variable → what it holds (shown in the editor). Flat names, so every unknown one is caught.
PERSON_VARIABLES = {
    "first_name": "the person's first name", "last_name": "their last name", "full_name": "first and last name",
    "email": "their email", "title": "their job title", "company": "their company", "location": "their location",
}
SENDER_VARIABLES = {
    "sender_name": "your name", "sender_first_name": "your first name", "sender_email": "your address",
    "sender_signature": "the signature in your mailbox settings", "campaign_name": "the campaign's name",
}
VARIABLES = {**PERSON_VARIABLES, **SENDER_VARIABLES}
SAMPLE = {k: f"<{k}>" for k in VARIABLES}

_TEXT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_HTML = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True, keep_trailing_newline=True)
_LINE_BREAK = re.compile(r"[\r\n]")


class TemplateProblem(ValueError):
    """A template that can't be rendered for this person (should have been caught at save)."""


def check(source: str, *, html: bool = False, subject: bool = False) -> list[str]:
    """Problems with one template, as sentences for the form (empty list: it is fine)."""
    if subject and _LINE_BREAK.search(source or ""):
        return ["A subject can't contain a line break (it would start a new mail header)."]
    env = _HTML if html else _TEXT
    try:
        ast = env.parse(source or "")
    except TemplateSyntaxError as exc:
        return [f"Template error on line {exc.lineno}: {exc.message}"]
    unknown = sorted(meta.find_undeclared_variables(ast) - set(VARIABLES))
    if unknown:
        names = ", ".join("{{ %s }}" % u for u in unknown)
        return [f"Unknown variable{'s' if len(unknown) > 1 else ''} {names}. Use one of: "
                + ", ".join(VARIABLES) + "."]
    try:
        out = env.from_string(source or "").render(SAMPLE)
    except TemplateError as exc:   # attribute access on a string, a filter misuse, a sandbox refusal
        return [f"Template error: {exc}"]
    if subject and _LINE_BREAK.search(out):
        return ["A subject can't contain a line break (it would start a new mail header)."]
    return []


def render(source: str, context: Mapping[str, Any], *, html: bool = False) -> str:
    try:
        return (_HTML if html else _TEXT).from_string(source or "").render(**_values(context))
    except TemplateError as exc:
        raise TemplateProblem(f"Template error: {exc}") from exc


def render_subject(source: str, context: Mapping[str, Any]) -> str:
    """The subject line; refuses one that would contain a line break (header injection)."""
    out = render(source, context).strip()
    if _LINE_BREAK.search(out):
        raise TemplateProblem("The subject would contain a line break (header injection); not sent.")
    return out


def text_to_html(text: str) -> str:
    """Plain text as simple HTML: escaped, blank lines → paragraphs, line breaks kept."""
    paras = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "\n".join(f"<p>{Markup('<br>').join(escape(line) for line in p.splitlines())}</p>" for p in paras)


def _values(context: Mapping[str, Any]) -> dict[str, str]:
    # Every variable is defined (empty when we don't know it): a missing title is a blank, not an error.
    return {k: "" if context.get(k) is None else str(context.get(k)) for k in VARIABLES}


def context_for(person: Any, sender: Any, mailbox: Any, campaign: Any) -> dict[str, str]:
    """The variables for one person, sent from one user's mailbox in one campaign."""
    sender_name = (getattr(mailbox, "from_name", None) or sender.name or sender.email or "").strip()
    return {
        "first_name": person.first_name, "last_name": person.last_name, "full_name": person.full_name,
        "email": person.email, "title": person.title, "company": person.company, "location": person.location,
        "sender_name": sender_name, "sender_first_name": sender_name.split(" ")[0] if sender_name else "",
        "sender_email": getattr(mailbox, "from_address", None) or sender.email,
        "sender_signature": getattr(mailbox, "signature", None) or "", "campaign_name": campaign.name,
    }
