"""Secrets at rest (CRM credentials, the inbound-mail webhook secret): Fernet with CREDENTIALS_KEY.
Plain values exist only in memory, inside a worker or a request that needs them; they are never
rendered, logged or enqueued.

CREDENTIALS_KEY may hold several keys, comma-separated, newest first (MultiFernet): new values are
encrypted with the first, and any of them decrypts. To rotate: put a new key in front, restart web
and workers, run `flask --app app rotate-credentials-key` (re-encrypts every row with the new key,
services/key_rotation.py), then drop the old key.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class CredentialsKeyMissing(RuntimeError):
    pass


def _keys(setting: str | bytes) -> list[str]:
    text = setting.decode() if isinstance(setting, bytes) else str(setting)
    return [part.strip() for part in text.split(",") if part.strip()]


def check_key(setting: str | bytes | None) -> None:
    """Raise ValueError naming the problem if CREDENTIALS_KEY is not a list of Fernet keys."""
    if not setting:
        return
    for n, key in enumerate(_keys(setting), start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ValueError(f"CREDENTIALS_KEY: key {n} is not a Fernet key (32 url-safe base64-encoded "
                             "bytes); keys are separated by commas, newest first") from None


@lru_cache(maxsize=8)
def _multi(setting: str) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in _keys(setting)])


def _fernet() -> MultiFernet:
    key = current_app.config.get("CREDENTIALS_KEY")
    if not key:
        raise CredentialsKeyMissing("CREDENTIALS_KEY is not set")
    return _multi(key.decode() if isinstance(key, bytes) else key)


def encrypt_credentials(creds: dict[str, Any]) -> bytes:
    return _fernet().encrypt(json.dumps(creds, sort_keys=True).encode())


def decrypt_credentials(blob: bytes | None) -> dict[str, Any]:
    if not blob:
        return {}
    try:
        return json.loads(_fernet().decrypt(bytes(blob)))
    except InvalidToken as exc:  # a key that was dropped: surface it as a connection problem, not a crash
        raise CredentialsKeyMissing("stored credentials cannot be decrypted with CREDENTIALS_KEY") from exc


def rotate(blob: bytes) -> bytes:
    """The same secret encrypted with the newest key (InvalidToken if no key opens it)."""
    return _fernet().rotate(bytes(blob))


def new_key() -> str:
    return Fernet.generate_key().decode()
