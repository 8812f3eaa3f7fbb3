"""The PostgreSQL side of the benchmark: a schema of its own, one typed table.

`load` creates the schema `tierwise_bench` (marked with a comment, so that a
schema of the same name that the benchmark did not create is never dropped)
and copies the accounts from the JSONL file into `accounts`, typed as a
warehouse table would be: integers, a numeric amount, a date, a boolean, and
text as typed (the tools stay one `;`-separated text column, as exported).
`drop_schema` removes everything the benchmark created. Only 127.0.0.1 is
ever reached.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg import sql

from common import Context

MARK = "scratch schema of tierwise bench/run.py; dropped when the run ends"
COLUMNS = (
    ("id", "text"),
    ("name", "text"),
    ("employees", "integer"),
    ("annual_revenue", "numeric(16, 2)"),
    ("industry", "text"),
    ("country", "text"),
    ("tech_stack", "text"),
    ("web_visits_30d", "integer"),
    ("last_activity", "date"),
    ("open_opportunities", "integer"),
    ("intent_score", "integer"),
    ("plan", "text"),
    ("active_users", "integer"),
    ("is_customer", "boolean"),
)


def connect(ctx: Context, autocommit: bool = True) -> psycopg.Connection[Any]:
    """A connection to the local server (the SQLAlchemy URL names the same one)."""
    assert "@127.0.0.1:" in ctx.pg_url, "the benchmark only reaches 127.0.0.1"
    return psycopg.connect(
        host="127.0.0.1",
        port=5432,
        dbname="test",
        user="postgres",
        autocommit=autocommit,
    )


def _schema_comment(connection: psycopg.Connection[Any], schema: str) -> str | None:
    row = connection.execute(
        "select obj_description(oid, 'pg_namespace') from pg_namespace "
        "where nspname = %s",
        (schema,),
    ).fetchone()
    return None if row is None else (row[0] or "")


def drop_schema(ctx: Context) -> None:
    """Drop the benchmark's schema; refuse one the benchmark did not create."""
    with connect(ctx) as connection:
        comment = _schema_comment(connection, ctx.pg_schema)
        if comment is None:
            return
        if comment != MARK:
            raise RuntimeError(
                f"schema '{ctx.pg_schema}' exists and was not made by the benchmark"
            )
        connection.execute(
            sql.SQL("drop schema {} cascade").format(sql.Identifier(ctx.pg_schema))
        )


def drop_table(ctx: Context, table: str) -> None:
    with connect(ctx) as connection:
        connection.execute(
            sql.SQL("drop table if exists {}.{}").format(
                sql.Identifier(ctx.pg_schema), sql.Identifier(table)
            )
        )


def load(ctx: Context) -> None:
    """A fresh schema holding the accounts of `ctx.jsonl_path`."""
    drop_schema(ctx)
    schema = sql.Identifier(ctx.pg_schema)
    table = sql.SQL("{}.{}").format(schema, sql.Identifier(ctx.pg_table))
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
        for name, kind in COLUMNS
    )
    names = sql.SQL(", ").join(sql.Identifier(name) for name, _ in COLUMNS)
    with connect(ctx) as connection:
        connection.execute(sql.SQL("create schema {}").format(schema))
        connection.execute(
            sql.SQL("comment on schema {} is {}").format(schema, sql.Literal(MARK))
        )
        connection.execute(sql.SQL("create table {} ({})").format(table, columns))
        copy = sql.SQL("copy {} ({}) from stdin").format(table, names)
        with connection.cursor() as cursor, cursor.copy(copy) as stream:
            with open(ctx.jsonl_path, encoding="utf-8") as handle:
                for line in handle:
                    stream.write_row(_row(json.loads(line)))
        connection.execute(sql.SQL("analyze {}").format(table))


def _row(account: dict[str, Any]) -> tuple[Any, ...]:
    tools = account["tech_stack"]
    values = dict(account, tech_stack=";".join(tools) if tools else None)
    return tuple(values[name] for name, _ in COLUMNS)


def server_version(ctx: Context) -> str:
    with connect(ctx) as connection:
        row = connection.execute("show server_version").fetchone()
    return f"PostgreSQL {row[0].split()[0]}" if row else "PostgreSQL"
