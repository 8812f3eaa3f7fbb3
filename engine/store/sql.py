"""The few statements whose SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def _insert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignoring(conn: Connection, table: Table, key: Sequence[str]) -> Insert:
    """An INSERT that skips rows whose `key` is already there."""
    return _insert(conn, table).on_conflict_do_nothing(index_elements=list(key))


def upsert(conn: Connection, table: Table, key: Sequence[str]) -> Insert:
    """An INSERT that updates every other column of rows whose `key` is there."""
    statement = _insert(conn, table)
    others = {
        column.name: statement.excluded[column.name]
        for column in table.columns
        if column.name not in key
    }
    return statement.on_conflict_do_update(index_elements=list(key), set_=others)


def execute_many(
    conn: Connection, statement: Insert, rows: Sequence[dict[str, Any]]
) -> None:
    """Run an INSERT once per row, straight through the driver.

    A batch holds thousands of rows whose columns are all plain; handing them
    to the driver's executemany, with only the columns whose type needs it
    converted (times, on SQLite), costs a fraction of SQLAlchemy's per-row
    parameter handling.
    """
    if not rows:
        return
    keys = list(rows[0])
    compiled = statement.compile(dialect=conn.dialect, column_keys=keys)
    convert = {
        key: processor
        for key in keys
        if (processor := _processor(statement.table, key, conn)) is not None
    }
    if compiled.positiontup is None:  # named parameters: the rows as they are
        params: Any = [{**row, **_converted(row, convert)} for row in rows]
    else:
        order = [compiled.binds[name].key for name in compiled.positiontup]
        params = _positional(rows, order, convert)
    conn.exec_driver_sql(compiled.string, params)


def _converted(row: dict[str, Any], convert: dict[str, Any]) -> dict[str, Any]:
    return {key: processor(row[key]) for key, processor in convert.items()}


def _positional(
    rows: Sequence[dict[str, Any]], order: list[str], convert: dict[str, Any]
) -> list[Any]:
    pick = itemgetter(*order)
    if len(order) == 1:
        return [(pick(row),) for row in rows]
    if not convert:
        return [pick(row) for row in rows]
    places = [(i, convert[key]) for i, key in enumerate(order) if key in convert]
    params = []
    for row in rows:
        values = list(pick(row))
        for i, processor in places:
            values[i] = processor(values[i])
        params.append(tuple(values))
    return params


def _processor(table: Any, key: str, conn: Connection) -> Any:
    column_type = table.c[key].type.dialect_impl(conn.dialect)
    return column_type.bind_processor(conn.dialect)
