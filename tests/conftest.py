"""Shared pytest fixtures for the tierwise test suite.

`shared_data` finds the public datasets that live next to the repository, in
`../shared/data` (see that folder's README.md). They are not part of the
repository, so tests that need them are skipped when the folder is absent,
unless `TIERWISE_REQUIRE_ALL=1` is set: then a missing folder is a failure, so
that CI cannot pass by silently skipping them. `shared_data_file` applies
the same rule to one file inside that folder.

The audit store's tests run against SQLite and PostgreSQL alike (`store_url`).
PostgreSQL is the server on 127.0.0.1:5432 (trust auth, database `test`;
`TIERWISE_TEST_POSTGRES` names another admin URL): each test session creates
a database of its own and drops it at the end, and each test gets a fresh
schema in it. An unreachable server skips those tests, or fails them under
`TIERWISE_REQUIRE_ALL=1`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _absent(message: str) -> NoReturn:
    """Skip the current test for missing data, or fail it under TIERWISE_REQUIRE_ALL."""
    if os.environ.get("TIERWISE_REQUIRE_ALL") == "1":
        pytest.fail(f"{message} (and TIERWISE_REQUIRE_ALL=1 is set)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of shared public datasets; skips (or fails) when it is absent."""
    if not SHARED_DATA.is_dir():
        _absent(f"no shared data folder at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_data_file(shared_data: Path) -> Callable[[str], Path]:
    """A function from a path inside `shared_data` to that file.

    It skips (or fails, under TIERWISE_REQUIRE_ALL=1) when the file is absent,
    as `shared_data` does for the whole folder.
    """

    def locate(relative: str) -> Path:
        path = shared_data / relative
        if not path.is_file():
            _absent(f"no shared data file {path}")
        return path

    return locate


POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    admin_url = os.environ.get("TIERWISE_TEST_POSTGRES", POSTGRES_ADMIN)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"tierwise_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except OperationalError as exc:
        admin.dispose()
        _absent(f"PostgreSQL is not reachable at {admin_url}: {exc.orig}")
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def postgres_schema(postgres_url: str) -> Callable[[str], str]:
    """Makes a fresh schema (named from a prefix) in the session's database and
    returns a URL whose search path is that schema."""
    from sqlalchemy import create_engine, text

    def make(prefix: str) -> str:
        schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
        engine = create_engine(postgres_url)
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
        return f"{postgres_url}?options=-csearch_path%3D{schema}"

    return make


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty audit store: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tierwise.db'}"
    url: str = request.getfixturevalue("postgres_schema")("s")
    return url
