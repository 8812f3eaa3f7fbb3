"""Creating and migrating a store's schema with the Alembic scripts shipped here.

The migration scripts live in `migrations/` inside the installed package, so
`tierwise db upgrade` works wherever tierwise is installed; there is no
`alembic.ini` to find. Each upgrade runs in one transaction (PostgreSQL and
SQLite both roll back DDL), under a lock so that two processes upgrading the
same PostgreSQL database do not collide.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from tierwise.engine.store.connect import write_transaction

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision this version of tierwise expects."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the packaged migrations have no head"
    return head


def current_revision(connection: Connection) -> str | None:
    """The database's revision; None when no tierwise schema is there."""
    return MigrationContext.configure(connection).get_current_revision()


def has_tables(connection: Connection) -> bool:
    return bool(inspect(connection).get_table_names())


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate the schema to `revision`; the revisions before and after."""
    with write_transaction(engine, lock="migrations") as connection:
        before = current_revision(connection)
        command.upgrade(alembic_config(connection), revision)
        after = current_revision(connection)
    log.info("store schema upgraded from %s to %s", before, after)
    return before, after
