"""Accounts on the web: sign-up, login/logout, the invite-accept page and the password reset link
page (team management itself is blueprints/team.py). Also the session plumbing every page relies
on: flask-login's user loader (which ends the sessions of deactivated members), what an expired session gets (the login page, never a 500), and the `admin_required` decorator."""
from __future__ import annotations

from datetime import timedelta
import re
from functools import wraps
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from marshmallow import ValidationError

from blueprints._htmx import RESPONSE_HANDLING, hx_redirect, is_htmx, render_page_or_fragment
from core import db, login_manager
from models import MAX_ID, User, utcnow
from services import accounts, passwords, system_mail
from services import signup as signup_svc

bp = Blueprint("auth", __name__)


SESSION_VERSION = "_sv"
SEEN_EVERY = timedelta(minutes=5)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The session's user, unless they were deactivated or their sessions were ended since it began
    (session_version moved on: deactivation, a password change or reset). Stamps last activity."""
    if not (user_id or "").isascii() or not user_id.isdigit() or int(user_id) > MAX_ID:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.deactivated_at is not None:
        return None
    if session.get(SESSION_VERSION, 0) != (user.session_version or 0):
        return None
    now = utcnow()
    if user.last_seen_at is None or now - user.last_seen_at >= SEEN_EVERY:
        user.last_seen_at = now
        db.session.commit()
    return user


def start_session(user: User) -> None:
    """Log `user` in and remember which session_version this session belongs to."""
    login_user(user)
    session[SESSION_VERSION] = user.session_version or 0


@bp.before_app_request
def _fresh_user() -> None:
    """Resolve current_user from this request's own session.

    flask-login caches the user on `g`, which lives in the app context; a request pushed inside an
    existing app context (tests, CLI-driven requests) would otherwise inherit the previous request's
    user, so a dropped session would still look logged in."""
    g.pop("_login_user", None)


@login_manager.unauthorized_handler
def _unauthorized():
    """No (or an expired) session: to the login page, coming back here afterwards."""
    target = url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
    # A fragment request can't show a login page in place: htmx navigates the whole window (401).
    return hx_redirect(target, 401) if is_htmx() else redirect(target)


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Logged in and an admin of the team; a recruiter gets 403."""
    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403, description="Only a team admin can do this.")
        return view(*args, **kwargs)
    return wrapped


@bp.app_context_processor
def _htmx_config() -> dict[str, Any]:
    return {"htmx_response_handling": RESPONSE_HANDLING}


# A path browsers read as ours: one "/", then no second "/" or "\" (browsers read "\" as "/", so
# "/\evil.example" means "//evil.example", another site), and only printable ASCII (browsers drop
# tabs and newlines, so "/<tab>/evil" means "//evil" too); percent-encoded forms stay encoded, which
# is harmless. 2,000 characters is plenty for any page of ours.
_LOCAL_PATH = re.compile(r"/(?![/\\])[\x21-\x7e]{0,2000}")


def _safe_next(target: str | None) -> str:
    """`target` if a browser would stay on this site following it, else the campaigns page."""
    if target and _LOCAL_PATH.fullmatch(target) and "\\" not in target:
        try:
            parts = urlsplit(target)
        except ValueError:   # e.g. an unclosed "[" where a host would be
            parts = None
        if parts is not None and not parts.scheme and not parts.netloc:
            return target
    return url_for("campaigns.index")


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    msgs = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return {k: v if isinstance(v, list) else [str(v)] for k, v in msgs.items()}


@bp.route("/")
def root():
    """Campaigns for a logged-in user, the login page otherwise."""
    return redirect(url_for("campaigns.index" if current_user.is_authenticated else "auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with email and password."""
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    error = None
    if request.method == "POST":
        user = accounts.authenticate(request.form.get("email", ""), request.form.get("password", ""))
        if user is not None and user.deactivated_at is not None:
            error = "This account was deactivated by your team's admin."
        elif user is not None:
            start_session(user)
            return hx_redirect(_safe_next(request.form.get("next")))
        else:
            error = "Wrong email or password."
    return render_page_or_fragment("auth/login.html", status=422 if error else 200, error=error,
                                   email=request.form.get("email", ""),
                                   next=request.values.get("next", ""))


@bp.post("/logout")
def logout():
    """Log out (POST, with the CSRF token). The user's sessions end on the server too, so a copy of
    the session cookie made before logging out opens nothing (nor do their other devices)."""
    if current_user.is_authenticated:
        accounts.end_sessions(current_user)
    logout_user()
    flash("You are logged out.", "success")
    return hx_redirect(url_for("auth.login"))


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Create a team and become its admin: the answer is "check your email" for every address (an
    address with an account gets an email saying so instead of a link: services/signup.py)."""
    errors: dict[str, list[str]] = {}
    if not system_mail.configured():
        # Nothing could reach the mailbox: say so, the same for everyone, rather than a dead end.
        return render_page_or_fragment("auth/signup.html", status=503 if request.method == "POST" else 200,
                                       errors={}, form={}, closed=True)
    if request.method == "POST":
        try:
            email = signup_svc.request_signup(request.form.to_dict())
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            return render_page_or_fragment("auth/signup.html", errors={}, form={}, sent_to=email)
    return render_page_or_fragment("auth/signup.html", status=422 if errors else 200,
                                   errors=errors, form=request.form)


@bp.route("/signup/confirm/<token>", methods=["GET", "POST"])
def signup_confirm(token: str):
    """The link from the sign-up email: a button (so a mail scanner opening the link creates
    nothing), then the team and its admin, logged in."""
    pending = signup_svc.pending_for(token)
    if pending is None:
        abort(404, description="This sign-up link is invalid, has expired or was already used. Sign up again.")
    if request.method == "POST":
        try:
            user = signup_svc.confirm(token)
        except LookupError as exc:
            abort(404, description=str(exc))
        except ValidationError:
            flash("This email has an account already: log in.", "error")
            return hx_redirect(url_for("auth.login"))
        logout_user()
        start_session(user)
        flash(f"Welcome to Shoal. Next, connect {user.team.name}'s CRM.", "success")
        return hx_redirect(url_for("integrations.index"))
    return render_page_or_fragment("auth/signup_confirm.html", pending=pending, token=token)


@bp.route("/invites/<token>", methods=["GET", "POST"])
def accept(token: str):
    """Accept an invite: choose a name and password, then join the team."""
    invite = accounts.open_invite(token)
    if invite is None:
        abort(404, description="This invite link is invalid, has expired or was already used. "
                               "Ask your team admin for a new one.")
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            user = accounts.accept_invite(token, request.form.to_dict())
        except ValidationError as exc:
            db.session.rollback()
            errors = _errors(exc)
        else:
            logout_user()
            start_session(user)
            flash(f"You joined {user.team.name}.", "success")
            return hx_redirect(url_for("campaigns.index"))
    return render_page_or_fragment("auth/accept.html", status=422 if errors else 200, invite=invite,
                                   errors=errors, form=request.form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Set a new password through a link an admin issued (one use, expiring)."""
    reset = passwords.open_reset(token)
    if reset is None:
        abort(404, description="This password reset link is invalid, has expired or was already used. "
                               "Ask your team admin for a new one.")
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            user = passwords.use_reset(token, request.form)
        except ValidationError as exc:
            db.session.rollback()
            errors = _errors(exc)
        except LookupError as exc:
            abort(404, description=str(exc))
        else:
            logout_user()
            start_session(user)
            flash("Your new password is set.", "success")
            return hx_redirect(url_for("campaigns.index"))
    return render_page_or_fragment("auth/reset.html", status=422 if errors else 200, reset=reset,
                                   member=db.session.get(User, reset.user_id), errors=errors)
