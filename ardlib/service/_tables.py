"""The database tables (SQLAlchemy 2 ORM): experiments, optimization runs, AI queries and
idempotency keys.  Timestamps are stored in UTC and always read back timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "RECORD_TABLES",
    "STATUSES",
    "AIQuery",
    "Base",
    "DataGeneration",
    "Experiment",
    "IdempotencyRecord",
    "OptimizationRun",
    "UTCDateTime",
    "utcnow",
]

RECORD_TABLES = frozenset({"experiments", "optimization_runs", "ai_queries"})
STATUSES = ("pending", "running", "completed", "failed")
_STATUS_CHECK = "status IN ('pending', 'running', 'completed', 'failed')"

# Integer on SQLite (so the column aliases the rowid and autoincrements), BIGINT elsewhere.
_ID = BigInteger().with_variant(Integer(), "sqlite")
_JSON = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and returned timezone-aware (UTC) on every backend.

    SQLite keeps no offset, so values are converted to UTC and stored naive there;
    PostgreSQL stores ``timestamptz``.  Naive datetimes are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"Timestamps must be timezone-aware. Got naive {value!r}.")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the service's tables."""


class OptimizationRun(Base):
    """One optimization campaign: a planner (``method``) driving experiments on an objective."""

    __tablename__ = "optimization_runs"
    __table_args__ = (
        CheckConstraint(_STATUS_CHECK, name="ck_optimization_runs_status"),
        Index("ix_optimization_runs_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    name: Mapped[str | None] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(64), index=True)
    objective: Mapped[str | None] = mapped_column(String(255))
    goal: Mapped[str] = mapped_column(String(8), default="minimize")
    parameter_space: Mapped[dict[str, Any] | None] = mapped_column(_JSON)
    config: Mapped[dict[str, Any] | None] = mapped_column(_JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)
    budget: Mapped[int | None] = mapped_column(Integer)
    best_value: Mapped[float | None] = mapped_column(Float)
    best_parameters: Mapped[dict[str, Any] | None] = mapped_column(_JSON)
    results: Mapped[dict[str, Any] | None] = mapped_column(_JSON)
    start_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_message: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )


class Experiment(Base):
    """One experiment: the parameters tried, the outcome and its timing."""

    __tablename__ = "experiments"
    __table_args__ = (
        CheckConstraint(_STATUS_CHECK, name="ck_experiments_status"),
        Index("ix_experiments_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    optimization_run_id: Mapped[int | None] = mapped_column(
        _ID, ForeignKey("optimization_runs.id", ondelete="SET NULL"), index=True
    )
    method: Mapped[str | None] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column(_JSON)
    context: Mapped[dict[str, Any] | None] = mapped_column(_JSON)
    noise_estimate: Mapped[float | None] = mapped_column(Float)
    results: Mapped[dict[str, Any] | None] = mapped_column(_JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)
    start_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_message: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )


class AIQuery(Base):
    """One reasoning query with the model that answered it, its latency and its cost."""

    __tablename__ = "ai_queries"
    __table_args__ = (Index("ix_ai_queries_created", "created_at", "id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    query: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any] | None] = mapped_column(_JSON)
    selected_model: Mapped[str] = mapped_column(String(64), index=True)
    latency_ms: Mapped[float] = mapped_column(Float)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    trace_id: Mapped[str | None] = mapped_column(String(128))
    created_by: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )


class IdempotencyRecord(Base):
    """A POST that carried an ``Idempotency-Key``: its fingerprint and its response.

    The record is inserted in the same transaction as the resource it created, so it is
    never visible half-done: a concurrent request with the same key waits on the key's
    unique index (PostgreSQL) or on the write lock (SQLite), then replays this response.
    """

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(_JSON)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )


class DataGeneration(Base):
    """A counter bumped in every transaction that changes a record table (see ``_db``).

    Listings are cached per process under the generation they were read at, so a cached
    listing is served only while no write (from any worker or process using ardlib's
    sessions) has committed since.
    """

    __tablename__ = "data_generation"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
