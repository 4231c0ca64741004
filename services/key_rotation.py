"""`flask --app app rotate-credentials-key`: re-encrypt every secret at rest with the newest
CREDENTIALS_KEY (crypto.py explains rotation). Every encrypted column is listed in ENCRYPTED_COLUMNS;
tests/security/test_secrets.py fails for a `*_encrypted` column that isn't.

Each row is rewritten with a conditional UPDATE (only if it still holds the value read), in batches
with a commit each, so a web process or worker writing the same row meanwhile is never overwritten
with an older secret, and a long run holds no lock for long."""
from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken
from sqlalchemy import select, update

from core import db
from crypto import rotate
from models import Connection, Mailbox, Team

ENCRYPTED_COLUMNS = ((Connection, "credentials_encrypted"), (Team, "inbound_secret_encrypted"),
                     (Mailbox, "password_encrypted"))
BATCH = 200


@dataclass
class Rotation:
    rotated: dict[str, int] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)   # "table.id" no configured key opens


def rotate_all() -> Rotation:
    out = Rotation()
    for model, column_name in ENCRYPTED_COLUMNS:
        column = getattr(model, column_name)
        name = f"{model.__tablename__}.{column_name}"
        out.rotated[name] = 0
        last_id = 0
        while True:
            rows = db.session.execute(select(model.id, column).where(column.is_not(None), model.id > last_id)
                                      .order_by(model.id).limit(BATCH)).all()
            if not rows:
                break
            for row_id, blob in rows:
                last_id = row_id
                try:
                    fresh = rotate(blob)
                except InvalidToken:
                    out.unreadable.append(f"{model.__tablename__}.{row_id}")
                    continue
                done = db.session.execute(update(model).where(model.id == row_id, column == blob)
                                          .values({column_name: fresh})).rowcount
                out.rotated[name] += done
            db.session.commit()
    return out
