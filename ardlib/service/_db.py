"""Engines and transactions for SQLite (the embedded default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on, and SQLAlchemy (not the ``sqlite3`` module)
emits ``BEGIN`` so every session is a real transaction; write transactions use
``BEGIN IMMEDIATE`` so they take the write lock up front and wait for it (busy timeout)
instead of failing on a stale read snapshot.  PostgreSQL uses the psycopg 3 driver.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, sessionmaker

from ._tables import RECORD_TABLES, Base, DataGeneration

__all__ = ["Database"]

_WRITE = "ardlib_write"
_GENERATION = "records"
_SQLITE_BUSY_SECONDS = 30.0


def _json_dumps(value: object) -> str:
    # NaN/inf are not JSON (PostgreSQL refuses them); the API validates them away first.
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.database in (None, "", ":memory:") or "mode=memory" in str(parsed.query):
        raise ValueError(
            "The 'database_url' parameter must name a SQLite file (in-memory databases are "
            f"per connection and lose data between requests). Got {url!r}."
        )
    engine = create_engine(
        url,
        json_serializer=_json_dumps,
        # As many pooled connections as request threads (anyio's default limit, 40): fewer
        # made the pool open and close overflow connections under load.
        pool_size=40,
        max_overflow=20,
        connect_args={"timeout": _SQLITE_BUSY_SECONDS},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(_SQLITE_BUSY_SECONDS * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _make_engine(url: str) -> Engine:
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url)
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        connect_args["connect_timeout"] = 5
    return create_engine(
        url,
        json_serializer=_json_dumps,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        connect_args=connect_args,
    )


def _bump_generation(session: Session) -> None:
    """Add one to the record tables' generation, inside the session's transaction."""
    conn = session.connection()
    g = DataGeneration
    done = conn.execute(update(g).where(g.name == _GENERATION).values(value=g.value + 1)).rowcount
    if not done:
        conn.execute(insert(g).values(name=_GENERATION, value=1))


def _track_writes(sessions: sessionmaker[Session]) -> None:
    """Bump the generation whenever a session changes a record table: ORM flushes
    (``add``, attribute changes, ``delete``) and bulk ``insert``/``update``/``delete``."""

    @event.listens_for(sessions, "after_flush")
    def _after_flush(session: Session, _ctx: UOWTransaction) -> None:
        changed = (*session.new, *session.dirty, *session.deleted)
        if any(getattr(obj, "__tablename__", None) in RECORD_TABLES for obj in changed):
            _bump_generation(session)

    @event.listens_for(sessions, "do_orm_execute")
    def _on_execute(state: ORMExecuteState) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            table = getattr(state.statement, "table", None)
            if getattr(table, "name", None) in RECORD_TABLES:
                _bump_generation(state.session)


class Database:
    """The service's database: an engine, its schema and transaction scopes.

    Parameters
    ----------
    url : str
        SQLAlchemy URL of a SQLite file or a PostgreSQL database (psycopg 3 driver).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)
        self.backend = self.engine.dialect.name
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        _track_writes(self._sessions)
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    def create_schema(self) -> None:
        """Create the tables that do not exist yet (existing ones are left as they are)."""
        Base.metadata.create_all(self.engine)

    def ensure_schema(self) -> None:
        """:meth:`create_schema` once per process, retried on every call until it succeeds
        (so a service started before its database comes up heals by itself)."""
        if self._schema_ready:
            return
        with self._schema_lock:
            if not self._schema_ready:
                self.create_schema()
                self._schema_ready = True

    def generation(self, session: Session) -> int:
        """The record tables' generation as ``session`` sees it (0 before any write).

        Every transaction that changes experiments, optimization runs or AI queries through
        a :class:`Database` session adds one, in the same transaction; a writer bypassing
        ardlib's sessions must do the same (``UPDATE data_generation SET value = value + 1``)
        or the listing cache of running services will not see its rows.
        """
        g = DataGeneration
        value = session.execute(select(g.value).where(g.name == _GENERATION)).scalar()
        return int(value or 0)

    def session(self) -> Session:
        """A new session; its first statement opens a (read) transaction."""
        return self._sessions()

    def write_session(self) -> Session:
        """A new session already inside a write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
        session = self._sessions()
        session.connection(execution_options={_WRITE: True})
        return session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read transaction, rolled back (nothing to keep) when the block ends."""
        with self.session() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A write transaction, committed when the block ends and rolled back on error."""
        with self.write_session() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> None:
        """Run ``SELECT 1``; raises the driver's error when the database is unreachable."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
