"""Opening a store's database: which URL, which engine, which transactions.

A store is named by a SQLAlchemy URL: `sqlite:///tierwise.db` (the default, a
file in the working directory) or `postgresql+psycopg://user@host/db`. A value
without `://` is taken as the path of a SQLite file. `TIERWISE_DB` names the
store when no URL is given.

Writes go through `write_transaction`, which serialises the writers that must
not interleave: on SQLite it takes the database's write lock at the start of
the transaction (`BEGIN IMMEDIATE`), so what a batch reads is what it updates;
on PostgreSQL it takes a transaction-scoped advisory lock named by the caller.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from tierwise.engine.store.errors import StoreError

log = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///tierwise.db"
ENV_VAR = "TIERWISE_DB"
SQLITE_BUSY_MS = 60_000  # how long a SQLite writer waits for another's lock


def resolve_url(given: str | None = None) -> str:
    """The store's URL: the one given, else `TIERWISE_DB`, else the default."""
    url = given or os.environ.get(ENV_VAR) or DEFAULT_URL
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url


def parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise StoreError(
            f"'{url}' is not a database URL; use sqlite:///FILE or "
            "postgresql+psycopg://USER@HOST/DATABASE"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(
            f"unsupported database '{backend}' in '{display_url(parsed)}'; "
            "tierwise stores runs in SQLite or PostgreSQL"
        )
    return parsed


def display_url(url: URL | str) -> str:
    """The URL as it can be shown: without its password."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def sqlite_path(url: URL) -> str | None:
    """The file of a SQLite URL; None for an in-memory database."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    return None if database in ("", ":memory:") else database


def create(url: URL) -> Engine:
    """An engine for the store at `url`, set up for its backend."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True)


def _sqlite_engine(url: URL) -> Engine:
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's events, not the sqlite3 module, issue BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if sqlite_path(url) is not None:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("tierwise_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def write_transaction(engine: Engine, lock: str | None = None) -> Iterator[Connection]:
    """A transaction for writes that must not interleave with other writers'.

    `lock` names what is being written (a policy, the outbox); writers that
    name the same thing run one after the other on PostgreSQL. SQLite runs all
    writers one after the other.
    """
    with engine.connect() as connection:
        connection = connection.execution_options(tierwise_write=True)
        with connection.begin():
            if lock is not None and connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(lock)}
                )
            yield connection


def lock_key(name: str) -> int:
    """A stable signed 64-bit number for an advisory lock named `name`."""
    digest = hashlib.sha256(f"tierwise:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
