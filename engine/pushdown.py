"""Grade a table inside its database with one query, and read back the results.

`grade_in_database` connects to a SQLAlchemy URL, reflects the source table,
compiles the policy to one query (`tierwise.engine.sql`) and either streams
the results back to the caller or writes them to a results table
(`into`): columns `id`, `tier`, `score`, `excluded`, `rejected`, `reason`,
one `points_<criterion>` per criterion (named by `sql.column_names`),
`policy_hash` and `as_of`. `compile_sql` shows the query with its values
written in, for reading (`--print-sql`).

A `--where` filter is a condition of the policy language over the policy's
facts, never SQL: `parse_where` checks it as a branch of a criterion added
to the policy's own text, so it is typed like any condition, and the
compiler binds its values. Nothing a user types reaches the SQL text.

Unreadable values (a number that does not parse, a date that does not
exist) make their row *rejected*: its `rejected` flag is true, `reason` lists
each field and why, and tier, score and points are NULL, as the per-account
engine rejects the record.

Given a `RunRecorder` (a run begun in the audit store), the rows also stream
back with what the store keeps (`sql_record`): each becomes the audit or
rejected record a file run records, through the same recorder, so current
tiers, changes and the actions that fire follow the same rules. The run's
input digest is then a digest of the rows read (`sql_record.RowResults`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tierwise.dsl import ast
from tierwise.dsl.check import CheckedPolicy, check_source
from tierwise.dsl.errors import PolicyError, TierwiseError
from tierwise.engine.policy import AsOf, CompiledPolicy
from tierwise.engine.run import Graded
from tierwise.engine.sql import CompiledQuery, compile_query
from tierwise.engine.sql_dialects import dialect_for

if TYPE_CHECKING:
    from tierwise.engine.store.recorder import RunRecorder

logger = logging.getLogger(__name__)

RESULT_COLUMNS = ("id", "tier", "score", "excluded", "rejected", "reason")
_FILE_SUFFIXES = {".duckdb": "duckdb", ".db": "sqlite", ".sqlite": "sqlite"}


class WhereError(TierwiseError):
    """A `--where` filter that is not a condition over the policy's facts."""


@dataclass(frozen=True)
class PushedResult:
    """One row of the results: an account graded, excluded or rejected."""

    id: str | None
    tier: str | None
    score: Decimal | None
    excluded: bool
    rejected: bool
    reason: str | None
    points: dict[str, Decimal | None]  # criterion name -> its contribution
    branches: dict[str, int]  # criterion name -> branch taken


@dataclass
class PushdownSummary:
    """What a pushed-down run did; read = graded + excluded + rejected."""

    table: str
    dialect: str
    as_of: str
    into: str | None = None
    read: int = 0
    graded: int = 0
    excluded: int = 0
    rejected: int = 0
    tiers: Counter[str] = field(default_factory=Counter)
    unread_columns: tuple[str, ...] = ()
    input_digest: str | None = None  # of the rows read, when recorded

    def count(self, tier: str | None, excluded: bool, rejected: bool, n: int) -> None:
        self.read += n
        if rejected:
            self.rejected += n
        elif excluded:
            self.excluded += n
        else:
            self.graded += n
            self.tiers[tier or ""] += n


# ---- the filter ----------------------------------------------------------------------


def parse_where(policy: CompiledPolicy, text: str) -> tuple[ast.Expr, CheckedPolicy]:
    """A `--where` condition, checked against the policy's facts, sets and constants."""
    if "\n" in text or "\r" in text:
        raise WhereError("--where must be a single line")
    names = {c.name for c in policy.checked.policy.criteria}
    name = next(
        f"where filter {n}"
        for n in range(len(names) + 1)
        if f"where filter {n}" not in names
    )
    source = (
        policy.source.rstrip("\n") + f'\n\ncriterion "{name}" weight 0\n  {text} => 0\n'
    )
    try:
        checked = check_source(source, "--where")
    except PolicyError as exc:
        raise WhereError(_where_problem(exc.diagnostics, text)) from None
    errors = [d for d in checked.diagnostics if d.severity == "error"]
    if errors:
        raise WhereError(_where_problem(errors, text))
    criterion = checked.policy.criteria[-1]
    branch = criterion.branches[0]
    if (
        criterion.name != name
        or branch.condition is None
        or len(criterion.branches) > 1
    ):
        raise WhereError(f"--where '{text}' is not one condition")
    return branch.condition, checked


def _where_problem(diagnostics: list[Any], text: str) -> str:
    first = diagnostics[0]
    details = "".join(f"; {d}" for d in first.details)
    return f"--where '{text}': {first.message}{details}"


# ---- connecting ----------------------------------------------------------------


def source_url(source: str) -> str:
    """A SQLAlchemy URL, or a DuckDB or SQLite file named by its suffix."""
    if "://" in source:
        return source
    for suffix, scheme in _FILE_SUFFIXES.items():
        if source.endswith(suffix):
            return f"{scheme}:///{source}"
    raise TierwiseError(
        f"--source '{source}' is not a database URL (e.g. "
        "postgresql+psycopg://user@host/db, duckdb:///file.duckdb, sqlite:///file.db)"
    )


@contextmanager
def connected(source: str | Engine) -> Iterator[Connection]:
    """A transaction on the source database (a URL, or an engine the caller
    owns and keeps); database errors become `TierwiseError`."""
    owned = not isinstance(source, Engine)
    engine: Engine = source if isinstance(source, Engine) else _engine(source)
    try:
        with engine.begin() as connection:
            yield connection
    except sa.exc.SQLAlchemyError as exc:
        where = engine.url.render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise TierwiseError(f"{where}: {reason}") from None
    finally:
        if owned:
            engine.dispose()


def _engine(source: str) -> Engine:
    try:
        engine = sa.create_engine(source_url(source))
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise TierwiseError(f"cannot use --source: {exc}") from None
    # SQLite and DuckDB would create a file that is not there: a typo in its
    # name would grade an empty database instead of saying so.
    file = engine.url.database
    embedded = engine.dialect.name in ("sqlite", "duckdb")
    if embedded and file and file != ":memory:" and not Path(file).exists():
        raise TierwiseError(f"--source: no database file '{file}'")
    dialect_for(engine.dialect.name).install(engine)
    return engine


def _split_name(name: str) -> tuple[str | None, str]:
    schema, _, table = name.rpartition(".")
    return (schema or None), table


def _same_table(one: str, other: str) -> bool:
    """Whether two table names may name one table (a schema left out may be
    the one the other names; case aside, as unquoted names are)."""
    (schema_a, a), (schema_b, b) = _split_name(one), _split_name(other)
    schemas = schema_a is None or schema_b is None or schema_a == schema_b
    return schemas and a.casefold() == b.casefold()


def reflect(connection: Connection, name: str) -> sa.Table:
    """The source table's columns and types (`schema.table` names a schema)."""
    schema, table = _split_name(name)
    if not sa.inspect(connection).has_table(table, schema=schema):
        raise TierwiseError(f"no table '{name}' in the source database")
    dialect = dialect_for(connection.dialect.name)
    columns = dialect.columns(connection, schema, table)
    return sa.Table(
        table, sa.MetaData(), *(sa.Column(n, t) for n, t in columns), schema=schema
    )


def build_query(
    policy: CompiledPolicy,
    connection: Connection,
    table: str,
    as_of: AsOf | Any,
    where: str | None = None,
    id_column: str | None = None,
    record: bool = False,
) -> CompiledQuery:
    """The grading query for `table`; `as_of` as `CompiledPolicy.grade` takes it;
    `record`: with the columns a recorded run needs (`sql.compile_query`)."""
    if not isinstance(as_of, AsOf):
        as_of = policy.as_of(as_of)
    source = reflect(connection, table)
    dialect = dialect_for(connection.dialect.name)
    condition = parse_where(policy, where) if where else None
    return compile_query(
        policy.checked,
        source,
        dialect,
        as_of,
        policy_hash=policy.hash,
        id_column=id_column,
        where=condition,
        record=record,
    )


def compile_sql(
    policy: CompiledPolicy,
    source: str | Engine,
    table: str,
    *,
    as_of: AsOf | Any,
    where: str | None = None,
    id_column: str | None = None,
) -> str:
    """The grading query as text, its values written in, for people to read."""
    with connected(source) as connection:
        query = build_query(policy, connection, table, as_of, where, id_column)
        compiled = query.select.compile(
            connection, compile_kwargs={"literal_binds": True}
        )
    return str(compiled).strip() + ";"


# ---- grading -------------------------------------------------------------------


def grade_in_database(
    policy: CompiledPolicy,
    source: str | Engine,
    table: str,
    *,
    as_of: AsOf | Any,
    where: str | None = None,
    into: str | None = None,
    replace: bool = False,
    id_column: str | None = None,
    on_result: Callable[[PushedResult], None] | None = None,
    recorder: RunRecorder | None = None,
) -> PushdownSummary:
    """Grade every row of `table` in the database at `source` (a URL, or an
    engine: SQLite engines need `sql_dialects.SQLiteDialect().install(engine)`
    before their first connection).

    With `into`, the results are written to that table (created; replaced only
    when `replace` is true) and `on_result` is not called; without it, each
    result is handed to `on_result` as it streams back. With `recorder` (a run
    begun in the audit store, as of the same moment), every row is also
    recorded as `tierwise grade --db` records a file's records: rows stream
    back even with `into`, and are written to it batch by batch.
    """
    if into is not None and _same_table(into, table):
        raise TierwiseError(
            f"--into '{into}' names the table being graded; name a new table"
        )
    record = recorder is not None
    with connected(source) as connection:
        query = build_query(policy, connection, table, as_of, where, id_column, record)
        summary = PushdownSummary(
            table=table,
            dialect=connection.dialect.name,
            as_of=query.as_of_label,
            into=into,
            unread_columns=query.unread_columns,
        )
        summary.tiers.update({t.name: 0 for t in policy.checked.policy.tiers})
        if recorder is not None:
            _record(connection, query, summary, recorder, on_result, into, replace)
        elif into is None:
            _stream(connection, query, summary, on_result)
        else:
            _write(connection, query, summary, into, replace)
    return summary


def _stream(
    connection: Connection,
    query: CompiledQuery,
    summary: PushdownSummary,
    on_result: Callable[[PushedResult], None] | None,
) -> None:
    rows = connection.execution_options(yield_per=1000).execute(query.select)
    for row in rows.mappings():
        result = _result(row, query)
        summary.count(result.tier, result.excluded, result.rejected, 1)
        if on_result is not None:
            on_result(result)


def _record(
    connection: Connection,
    query: CompiledQuery,
    summary: PushdownSummary,
    recorder: RunRecorder,
    on_result: Callable[[PushedResult], None] | None,
    into: str | None,
    replace: bool,
) -> None:
    from tierwise.engine.sql_record import RowResults

    written = None
    if into is not None:
        # Written in the database first: a database may not take inserts on a
        # connection whose results are still streaming (DuckDB crashes).
        written = PushdownSummary(summary.table, summary.dialect, summary.as_of)
        _write(connection, query, written, into, replace)
    rows = RowResults(recorder.policy, query, recorder.as_of)
    found = connection.execution_options(yield_per=1000).execute(query.select)
    for line, row in enumerate(found.mappings(), start=1):
        result = _result(row, query)
        summary.count(result.tier, result.excluded, result.rejected, 1)
        graded, record = rows(line, row)
        if isinstance(graded, Graded):
            recorder.graded(graded)
        else:
            recorder.rejected(graded, record)
        if written is None and on_result is not None:
            on_result(result)
    summary.input_digest = rows.digest
    if written is not None:
        _check_same(summary, written, into or "")


def _check_same(recorded: PushdownSummary, written: PushdownSummary, into: str) -> None:
    """The table was read twice; the counts show if it changed in between."""
    mine = (recorded.graded, recorded.excluded, recorded.rejected, recorded.tiers)
    theirs = (written.graded, written.excluded, written.rejected, written.tiers)
    if mine != theirs:
        raise TierwiseError(
            f"{recorded.table} changed while it was graded: '{into}' holds "
            f"{written.graded} graded, {written.excluded} excluded and "
            f"{written.rejected} rejected rows, the run {recorded.graded}, "
            f"{recorded.excluded} and {recorded.rejected}"
        )


def _result(row: Any, query: CompiledQuery) -> PushedResult:
    return PushedResult(
        id=row["id"],
        tier=row["tier"],
        score=_decimal(row["score"]),
        excluded=bool(row["excluded"]),
        rejected=bool(row["rejected"]),
        reason=row["reason"],
        points={c: _decimal(row[n]) for c, n in query.points.items()},
        branches={c: int(row[n]) for c, n in query.branches.items()},
    )


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).normalize() + 0


def results_table(name: str, query: CompiledQuery, dialect_name: str) -> sa.Table:
    """The results table's shape (it is created by `grade_in_database`)."""
    dialect = dialect_for(dialect_name)
    number = dialect.decimal_type(query.scale)
    schema, table = _split_name(name)
    columns = [
        sa.Column("id", sa.Text()),
        sa.Column("tier", sa.Text()),
        sa.Column("score", number),
        sa.Column("excluded", sa.Boolean()),
        sa.Column("rejected", sa.Boolean()),
        sa.Column("reason", sa.Text()),
        *(sa.Column(c, number) for c in query.points.values()),
        sa.Column("policy_hash", sa.Text()),
        sa.Column("as_of", sa.Text()),
    ]
    return sa.Table(table, sa.MetaData(), *columns, schema=schema)


def _write(
    connection: Connection,
    query: CompiledQuery,
    summary: PushdownSummary,
    into: str,
    replace: bool,
) -> None:
    target = _create(connection, query, into, replace)
    names = [c.name for c in target.columns]
    wanted = [c for c in query.select.selected_columns if c.name in names]
    connection.execute(
        target.insert().from_select(names, query.select.with_only_columns(*wanted))
    )
    counts = sa.select(
        target.c.tier, target.c.excluded, target.c.rejected, sa.func.count()
    ).group_by(target.c.tier, target.c.excluded, target.c.rejected)
    for tier, excluded, rejected, n in connection.execute(counts):
        summary.count(tier, bool(excluded), bool(rejected), n)


def _create(
    connection: Connection, query: CompiledQuery, into: str, replace: bool
) -> sa.Table:
    target = results_table(into, query, connection.dialect.name)
    if sa.inspect(connection).has_table(target.name, schema=target.schema):
        if not replace:
            raise TierwiseError(
                f"table '{into}' already exists; pass --replace to replace it"
            )
        target.drop(connection)
    target.create(connection)
    return target


__all__ = [
    "PushedResult",
    "PushdownSummary",
    "WhereError",
    "compile_sql",
    "grade_in_database",
    "parse_where",
]
