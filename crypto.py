"""CRM credentials at rest: Fernet with CREDENTIALS_KEY. Plain credentials exist only in memory,
inside a worker or a request that checks a connection; they are never rendered, logged or enqueued."""
from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


class CredentialsKeyMissing(RuntimeError):
    pass


def _fernet() -> Fernet:
    key = current_app.config.get("CREDENTIALS_KEY")
    if not key:
        raise CredentialsKeyMissing("CREDENTIALS_KEY is not set")
    return Fernet(key.encode() if isinstance(key, str) else key)


def encrypt_credentials(creds: dict[str, Any]) -> bytes:
    return _fernet().encrypt(json.dumps(creds, sort_keys=True).encode())


def decrypt_credentials(blob: bytes | None) -> dict[str, Any]:
    if not blob:
        return {}
    try:
        return json.loads(_fernet().decrypt(bytes(blob)))
    except InvalidToken as exc:  # a rotated key: surface it as a connection problem, not a crash
        raise CredentialsKeyMissing("stored credentials cannot be decrypted with CREDENTIALS_KEY") from exc


def new_key() -> str:
    return Fernet.generate_key().decode()
