"""Create a resource at most once per ``Idempotency-Key``.

The key's record and the resource are inserted in one transaction, the key first.  A
second request with the same key either waits for the first transaction (the key's unique
index on PostgreSQL, the write lock on SQLite) and then fails to insert the key, or finds
the key committed; in both cases it replays the stored response when its body is the same
(same method, path and validated body) and gets 409 ``idempotency_conflict`` otherwise.
Keys are kept indefinitely; operators may prune old rows of ``idempotency_keys``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .._io import sha256_json
from ._db import Database
from ._errors import ApiError
from ._tables import IdempotencyRecord, utcnow

__all__ = ["Created", "create_once", "fingerprint"]


@dataclass(frozen=True)
class Created:
    """Outcome of :func:`create_once`: the response body and whether it was replayed."""

    status_code: int
    body: dict[str, Any]
    replayed: bool


def fingerprint(method: str, path: str, body: BaseModel) -> str:
    """SHA-256 of the method, path and validated body (key order and spacing do not matter)."""
    return sha256_json({"method": method, "path": path, "body": body.model_dump(mode="json")})


def create_once(
    db: Database,
    make: Callable[[Session], dict[str, Any]],
    *,
    key: str | None,
    method: str,
    path: str,
    body: BaseModel,
) -> Created:
    """Run ``make`` (which adds the resource and returns its JSON) in a write transaction,
    at most once per ``key``.

    Raises
    ------
    ApiError
        409 ``idempotency_conflict`` when ``key`` was used with a different request;
        whatever ``make`` raises (nothing is stored then, the key included).
    """
    if key is None:
        with db.writing() as session:
            return Created(201, make(session), False)
    digest = fingerprint(method, path, body)
    with db.write_session() as session:
        record = IdempotencyRecord(
            key=key,
            method=method,
            path=path,
            request_hash=digest,
            status_code=201,
            response=None,
            created_at=utcnow(),
        )
        session.add(record)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
        else:
            try:
                payload = make(session)
                record.response = payload
                session.commit()
            except BaseException:
                session.rollback()
                raise
            return Created(201, payload, False)
    return _replay(db, key, digest)


def _replay(db: Database, key: str, digest: str) -> Created:
    with db.reading() as session:
        record = session.get(IdempotencyRecord, key)
    if record is None or record.response is None:  # pragma: no cover - needs a deleted key
        raise ApiError(
            409,
            f"A request with Idempotency-Key {key!r} is still being processed; retry later.",
            "idempotency_conflict",
        )
    if record.request_hash != digest:
        raise ApiError(
            409,
            f"Idempotency-Key {key!r} was already used for a different request "
            f"({record.method} {record.path} with another body); use a new key.",
            "idempotency_conflict",
        )
    return Created(record.status_code, dict(record.response), True)
