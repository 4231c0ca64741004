"""Where uploaded files (CVs) live: a small interface with two backends, chosen by config.

- `local` (default): a directory, `instance/files` unless FILE_STORAGE_DIR says otherwise. Fine for
  one machine; web and workers must share it.
- `s3`: any S3-compatible store through boto3 (AWS S3, MinIO, Ceph, R2...): FILE_STORAGE_S3_BUCKET,
  optional FILE_STORAGE_S3_ENDPOINT_URL / _REGION / _PREFIX; credentials come from boto3's usual
  chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, instance role...), never from the database.

Keys are opaque strings made by the caller (`team<id>/<sha256>`), never a user-supplied name, so a
file name can't walk out of the directory. Example::

    store = get_storage()
    store.put("team1/ab12...", b"%PDF-1.7 ...")
    store.get("team1/ab12...")     # the bytes; KeyError if missing
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from flask import current_app

KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}(/[A-Za-z0-9_.-]{1,128}){0,3}$")


class Storage(Protocol):
    def put(self, key: str, content: bytes, content_type: str = "application/octet-stream") -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


def _checked(key: str) -> str:
    if not KEY.match(key) or ".." in key:
        raise ValueError(f"invalid storage key {key!r}")
    return key


class LocalStorage:
    """Files under one directory; writes go through a temporary file and a rename (atomic)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _checked(key)

    def put(self, key: str, content: bytes, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Storage:
    """An S3-compatible bucket through boto3 (the production option)."""

    def __init__(self, bucket: str, *, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None, client: object | None = None):
        import boto3   # optional dependency (pip install 'shoal[s3]'): only this backend needs it

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client = client or boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{_checked(key)}" if self.prefix else _checked(key)

    def put(self, key: str, content: bytes, content_type: str = "application/octet-stream") -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=content, ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise KeyError(key) from None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


def get_storage() -> Storage:
    """The configured backend (FILE_STORAGE = local | s3)."""
    cfg = current_app.config
    kind = (cfg.get("FILE_STORAGE") or "local").lower()
    if kind == "s3":
        bucket = cfg.get("FILE_STORAGE_S3_BUCKET")
        if not bucket:
            raise RuntimeError("FILE_STORAGE=s3 needs FILE_STORAGE_S3_BUCKET")
        return S3Storage(bucket, prefix=cfg.get("FILE_STORAGE_S3_PREFIX") or "",
                         endpoint_url=cfg.get("FILE_STORAGE_S3_ENDPOINT_URL"),
                         region=cfg.get("FILE_STORAGE_S3_REGION"))
    if kind != "local":
        raise RuntimeError(f"unknown FILE_STORAGE {kind!r} (local or s3)")
    return LocalStorage(cfg.get("FILE_STORAGE_DIR") or Path(current_app.instance_path) / "files")
