"""Account jobs: the sign-up email (services/signup.py), sent by a worker so the form answers the
same way, in the same time, whether or not the address has an account."""
from __future__ import annotations

from services import signup


def signup_mail(digest: str) -> str:
    """Send the sign-up link, or "you already have an account"; enqueued by the sign-up form."""
    return signup.send_mail(str(digest))
