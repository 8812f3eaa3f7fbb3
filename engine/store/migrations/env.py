"""Alembic environment for the audit store's migrations.

tierwise runs these migrations itself (`tierwise db upgrade`, or on first use
of a new SQLite file) and hands Alembic an open connection in
`config.attributes["connection"]`; there is no offline (SQL script) mode.
"""

from __future__ import annotations

from alembic import context

from tierwise.engine.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "tierwise runs its migrations itself: use `tierwise db upgrade --db URL`"
    )
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
