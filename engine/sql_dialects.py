"""The SQL that differs between databases, and nothing else.

`tierwise.engine.sql` compiles a policy to one SQLAlchemy Core query; every
piece of that query whose spelling depends on the database comes from a
`Dialect` here. A dialect says how to:

- strip text as Python's `str.strip()` does and build a *text key*: trimmed,
  Unicode NFC, case-folded (or, `compared exactly`, trimmed and NFC only);
- test text against an anchored regular expression, take a group of it, and
  replace its first match;
- hold exact numbers (their SQL type, literals, text to number, `+ - * /`,
  comparisons; division by zero gives NULL);
- read dates and dates with times, turn a wall-clock time of the policy's time
  zone into an instant (earlier instant when the clock repeats, as Python's
  `fold=0`), an instant into its local date, and count days between dates;
- split a delimited `list of text` value into rows;
- turn integer score units into an exact decimal, and join problem texts.

`PostgresDialect` and `DuckDBDialect` write SQL; `SQLiteDialect` registers
Python functions on each connection (a SQLAlchemy `connect` event), because
SQLite has no decimals, no Unicode normalization and no time zones: there,
facts are read and numbers computed by tierwise's own Python code. Another
database (Snowflake, BigQuery, Trino, Databricks SQL) needs a subclass of
`Dialect` that provides the methods marked "each dialect", registered with
`register_dialect`; until then the base class raises a `TierwiseError` that
names the construct and the dialect.

Known differences from the per-account engine, which the conformance suite
shows rather than hides (`tests/test_conformance.py`):

- Case folding. Python's `casefold` is applied in SQL as `lower` followed by
  a folding table built from Python's own Unicode data (`fold_table`): one
  `translate` for the one-to-one folds (final sigma, long s, micro sign,
  Cherokee) and `replace` for the Latin and Armenian multi-letter ones
  (`ß` to `ss`, the `ﬁ` ligatures). Greek letters with a subscript iota
  (`ᾳ`) or with dialytika and tonos (`ΐ`) keep their single-letter lower
  case in PostgreSQL and DuckDB, so they do not match their folded spelling.
  The database's `lower` may also follow a different Unicode version.
- Numbers. PostgreSQL's NUMERIC is exact at any size; DuckDB holds numbers as
  DECIMAL(38,10): a value with more than 28 digits before the decimal point
  or a non-zero digit beyond the tenth decimal place is rejected, and
  products and quotients are rounded to 10 decimal places. Division rounds
  differently everywhere: tierwise per account keeps 28 significant digits,
  PostgreSQL at least 16, DuckDB 10 decimal places. Digits other than ASCII
  0-9 (Arabic-Indic, full-width) are numbers per account and rejected in SQL.
- Dates. SQL reads `YYYY-MM-DD`, `YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]]` with an
  optional `Z` or `+HH[:MM]` offset, and `format` codes %Y %y %m %d %H %M %S
  %b %B; other ISO 8601 forms Python accepts (`20200101`, week dates,
  `T10` alone) are rejected in SQL. An instant at the edge of the calendar
  that Python cannot move to UTC (`9999-12-31T23:59:59-12:00`) is rejected
  per account and read in SQL.
"""

from __future__ import annotations

import array
import datetime as dt
import functools
import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from tierwise.dsl import ast
from tierwise.dsl.errors import TierwiseError
from tierwise.dsl.typecheck import text_key

CE = ColumnElement[Any]

# The multi-letter folds SQL applies after `lower`; see the module docstring.
MULTI_FOLDS = "ßŉǰẖẗẘẙẚﬀﬁﬂﬃﬄﬅﬆﬓﬔﬕﬖﬗև"


class UnsupportedConstruct(TierwiseError):
    """A policy construct the chosen database dialect cannot express."""

    def __init__(self, construct: str, dialect: str):
        super().__init__(
            f"{construct} cannot be written in SQL for the '{dialect}' dialect; "
            "grade this policy per account, or add a Dialect for it "
            "(see tierwise.engine.sql_dialects)"
        )


def _blocks() -> Iterator[str]:
    """Every character, in order, in blocks that one string method tests at
    once (testing the 1.1 million characters one by one takes a fifth of a
    second, at every start of a process that compiles SQL)."""
    codec = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"
    for start in range(0, sys.maxunicode + 1, 512):
        codes = array.array("I", range(start, min(start + 512, sys.maxunicode + 1)))
        yield codes.tobytes().decode(codec, "surrogatepass")


@functools.cache
def _unicode_tables() -> tuple[str, str, str]:
    """Python's whitespace, and its one-to-one case folds after `lower`."""
    spaces: list[str] = []
    single: dict[str, str] = {}
    for block in _blocks():
        if block.split() != [block]:
            spaces += [ch for ch in block if ch.isspace()]
        # A block whose lower case is its case folding holds no character
        # that differs (the tests compare this with each character alone).
        if block.lower() == block.casefold():
            continue
        for char in block:
            lower, folded = char.lower(), char.casefold()
            if lower != folded and len(lower) == 1 and len(folded) == 1:
                single[lower] = folded
    return "".join(spaces), "".join(single), "".join(single.values())


def whitespace() -> str:
    """Every character Python's `str.strip()` removes."""
    return _unicode_tables()[0]


def fold_table() -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """(from, to) for `translate` and (from, to) pairs for `replace`.

    They turn Python's `lower()` of a text into its `casefold()`.
    """
    _, source, target = _unicode_tables()
    multi = tuple((char, char.casefold()) for char in MULTI_FOLDS)
    return source, target, multi


def ws_class() -> str:
    """A regular-expression class of Python's whitespace."""
    return "[" + whitespace() + "]"


class Dialect:
    """SQL for one database. Methods raising `UnsupportedConstruct` here are
    the ones each dialect must provide."""

    name = "generic"
    python_reader = False  # facts read by tierwise's Python code in the database
    keyed_lists = False  # lists read once into arrays of keys (`list_keys`)
    number_scale: int | None = None  # decimal places numbers keep (None: any)
    nan_numeric = False  # its exact NUMERIC columns can hold NaN and infinities

    def install(self, engine: Engine) -> None:
        """Prepare an engine's connections (SQLite registers functions)."""

    def columns(
        self, connection: Connection, schema: str | None, table: str
    ) -> list[tuple[str, sa.types.TypeEngine[Any]]]:
        """A table's columns, in order, with their types."""
        found = sa.inspect(connection).get_columns(table, schema=schema)
        return [(c["name"], c["type"]) for c in found]

    def step(self, select: sa.Select[Any], name: str) -> sa.CTE:
        """One step of the query, computed once (PostgreSQL would otherwise
        inline every step into the next and evaluate each expression many
        times over)."""
        return select.cte(name).prefix_with("MATERIALIZED")

    def unsupported(self, construct: str) -> UnsupportedConstruct:
        return UnsupportedConstruct(construct, self.name)

    # ---- text (each dialect) -------------------------------------------------

    def strip(self, text: CE) -> CE:
        raise self.unsupported("stripping Unicode whitespace")

    def nfc(self, text: CE) -> CE:
        raise self.unsupported("Unicode NFC normalization")

    def matches(self, text: CE, pattern: str) -> CE:
        """Whether `text` matches `pattern`, which is anchored with ^ and $."""
        raise self.unsupported("a regular-expression match")

    def group(self, text: CE, pattern: str, number: int) -> CE:
        raise self.unsupported("a regular-expression group")

    def regex_replace(self, text: CE, pattern: str, replacement: str) -> CE:
        raise self.unsupported("a regular-expression replacement")

    def split(self, text: CE, separator: str) -> FromClause:
        """Rows of one column, `item`: the parts of delimited text."""
        raise self.unsupported("splitting a list of text")

    def text_key(self, text: CE, exact: bool, stripped: bool = False) -> CE:
        """`typecheck.text_key` in SQL; `stripped`: `text` is stripped already."""
        key = self.nfc(text if stripped else self.strip(text))
        if exact:
            return key
        lowered = sa.func.lower(sa.func.replace(key, _text("İ"), _text("i̇")))
        source, target, multi = fold_table()
        folded = sa.func.translate(lowered, _text(source), _text(target))
        for char, replacement in multi:
            folded = sa.func.replace(folded, _text(char), _text(replacement))
        return folded

    def text_contains(self, container: CE, item: CE) -> CE:
        return sa.func.strpos(container, item) > 0

    # ---- numbers (each dialect) ------------------------------------------------

    def number(self, value: Decimal | int) -> CE:
        raise self.unsupported("an exact decimal number")

    def number_from_text(self, text: CE) -> CE:
        """A number from text already checked to be one; NULL if out of range."""
        raise self.unsupported("reading a number from text")

    def number_from_column(self, column: CE) -> CE:
        raise self.unsupported("reading a number column")

    def arithmetic(self, op: str, left: CE, right: CE) -> CE:
        if op == "/":
            return left / sa.func.nullif(right, 0)
        return sa.BinaryExpression(left, right, _OPERATORS[op])

    def negate(self, operand: CE) -> CE:
        return -operand

    def compare(self, op: str, left: CE, right: CE, family: str) -> CE:
        return sa.BinaryExpression(left, right, _COMPARATORS[op])

    def integral(self, number: CE) -> CE:
        return number == sa.func.trunc(number)

    def whole(self, value: CE) -> CE:
        """An integer expression as this dialect holds numbers."""
        return value

    # ---- dates and times (each dialect) ------------------------------------------

    def null(self, family: str) -> CE:
        """An unknown value of a type family, typed so that it compares."""
        types: dict[str, sa.types.TypeEngine[Any]] = {
            "numeric": self.number_type(),
            "bool": sa.Boolean(),
            "date": sa.Date(),
            "datetime": sa.DateTime(timezone=True),
        }
        return sa.cast(sa.null(), types.get(family, sa.Text()))

    def number_type(self) -> sa.types.TypeEngine[Any]:
        return sa.Numeric()

    def literal(self, value: Any) -> CE:
        """A typed value of the policy (number, text, yes/no, date) as a bound value."""
        if isinstance(value, bool):
            return sa.literal(value, sa.Boolean())
        if isinstance(value, (Decimal, int)):
            return self.number(value)
        if isinstance(value, dt.datetime):
            return sa.literal(value, sa.DateTime(timezone=True))
        if isinstance(value, dt.date):
            return sa.literal(value, sa.Date())
        return _text(str(value))

    def date_from_iso(self, text: CE) -> CE:
        """A DATE from checked `YYYY-MM-DD` text."""
        return sa.cast(text, sa.Date())

    def naive_from_iso(self, text: CE) -> CE:
        """A wall-clock TIMESTAMP from checked `YYYY-MM-DD HH:MM[:SS[.f]]`."""
        return sa.cast(text, sa.DateTime())

    def instant_from_iso(self, text: CE) -> CE:
        """An instant from checked ISO text with an offset."""
        return sa.cast(text, sa.DateTime(timezone=True))

    def make_date(self, year: CE, month: CE, day: CE) -> CE:
        return sa.func.make_date(year, month, day)

    def make_naive(self, parts: Sequence[CE]) -> CE:
        return sa.func.make_timestamp(*parts)

    def timezone(self, tz: str, value: CE) -> CE:
        """Wall clock to instant, or instant to wall clock, in zone `tz`."""
        raise self.unsupported("time-zone conversion")

    def minutes(self, count: int) -> CE:
        raise self.unsupported("a time interval")

    def local_instant(self, naive: CE, tz: str) -> CE:
        """The instant a wall-clock time of `tz` stands for.

        Where the clock repeats (autumn), the earlier instant, as Python's
        `fold=0` does; the databases pick the later one, so each candidate
        earlier instant (DST shifts of 2 hours, 1 hour, 30 minutes) is tried.
        """
        instant = self.timezone(tz, naive)
        whens = []
        for minutes in (120, 60, 30):
            earlier = instant - self.minutes(minutes)
            whens.append((self.timezone(tz, earlier) == naive, earlier))
        return sa.case(*whens, else_=instant)

    def local_date(self, instant: CE, tz: str) -> CE:
        return sa.cast(self.timezone(tz, instant), sa.Date())

    def finite_date(self, value: CE) -> CE:
        """Whether a date or timestamp column's value is a real day, not
        PostgreSQL's or DuckDB's `infinity`; most databases have no other."""
        return sa.true()

    def local_midnight(self, date: CE, tz: str) -> CE:
        return self.local_instant(sa.cast(date, sa.DateTime()), tz)

    def days_between(self, early: CE, late: CE) -> CE:
        return sa.type_coerce(late - early, sa.Integer())

    def date_part(self, date: CE, part: str) -> CE:
        return sa.cast(sa.extract(part, date), sa.Integer())

    # ---- lists -----------------------------------------------------------------

    def list_has_any(
        self, items: CE, separator: str, exact: bool, keys: list[str]
    ) -> CE:
        """Whether delimited text holds an item whose key is one of `keys`."""
        parts = self.split(items, separator)
        key = self.text_key(parts.c.item, exact)
        return sa.exists(
            sa.select(sa.literal(1)).select_from(parts).where(key.in_(keys))
        )

    def list_has(self, items: CE, separator: str, exact: bool, item: CE) -> CE:
        """Whether delimited text holds an item whose key is `item`."""
        parts = self.split(items, separator)
        key = self.text_key(parts.c.item, exact)
        return sa.exists(sa.select(sa.literal(1)).select_from(parts).where(key == item))

    def list_has_all(
        self, items: CE, separator: str, exact: bool, keys: list[str]
    ) -> CE:
        return sa.and_(*(self.list_has_any(items, separator, exact, [k]) for k in keys))

    def list_keys(self, items: CE, separator: str, exact: bool) -> CE:
        """Every item's key, computed once per row for the `keys_have` tests
        (dialects with `keyed_lists`; the others test the delimited text)."""
        raise self.unsupported("an array of list items")

    def keys_have_any(self, keys: CE, wanted: list[str]) -> CE:
        raise self.unsupported("an array of list items")

    def keys_have_all(self, keys: CE, wanted: list[str]) -> CE:
        raise self.unsupported("an array of list items")

    def keys_have(self, keys: CE, item: CE) -> CE:
        raise self.unsupported("an array of list items")

    def keys_nonempty(self, keys: CE) -> CE:
        """Whether an item is not blank (its key is '' exactly when it is)."""
        raise self.unsupported("an array of list items")

    def list_nonempty(self, items: CE, separator: str) -> CE:
        parts = self.split(items, separator)
        key = self.text_key(parts.c.item, exact=True)
        return sa.exists(sa.select(sa.literal(1)).select_from(parts).where(key != ""))

    def list_default(self, fact: ast.FactDecl, typed: frozenset[str]) -> CE:
        assert fact.default is not None
        return _text(str(fact.default.value))

    # ---- results -----------------------------------------------------------------

    def decimal_type(self, scale: int) -> sa.types.TypeEngine[Any]:
        return sa.Numeric(38, scale)

    def decimal_from_units(self, units: CE, scale: int) -> CE:
        step = Decimal(1).scaleb(-scale)
        return sa.cast(units, sa.Numeric(38, 0)) * sa.literal(
            step, sa.Numeric(38, scale)
        )

    def join_texts(self, parts: Sequence[CE]) -> CE:
        return sa.func.nullif(sa.func.concat_ws(_text("; "), *parts), _text(""))


def _text(value: str) -> CE:
    return sa.literal(value, sa.Text())


def _text_array(values: list[str]) -> CE:
    return sa.cast(
        postgresql.array([_text(v) for v in values]), postgresql.ARRAY(sa.Text)
    )


_OPERATORS = {
    "+": sa.sql.operators.add,
    "-": sa.sql.operators.sub,
    "*": sa.sql.operators.mul,
}
_COMPARATORS = {
    "=": sa.sql.operators.eq,
    "!=": sa.sql.operators.ne,
    "<": sa.sql.operators.lt,
    "<=": sa.sql.operators.le,
    ">": sa.sql.operators.gt,
    ">=": sa.sql.operators.ge,
}


class PostgresDialect(Dialect):
    """PostgreSQL 13 or newer, UTF-8 database: NUMERIC, `normalize`, `~`."""

    name = "postgresql"
    nan_numeric = True
    keyed_lists = True

    def finite_date(self, value: CE) -> CE:
        return sa.func.isfinite(value)

    def strip(self, text: CE) -> CE:
        # `btrim` with a set of multibyte characters measures every character
        # of the text; ASCII text can only hold the set's ASCII ones.
        ascii_only = sa.func.octet_length(text) == sa.func.length(text)
        blank = "".join(c for c in whitespace() if c.isascii())
        return sa.case(
            (ascii_only, sa.func.btrim(text, _text(blank))),
            else_=sa.func.btrim(text, _text(whitespace())),
        )

    def nfc(self, text: CE) -> CE:
        return sa.func.normalize(text, sa.literal_column("NFC"))

    def text_key(self, text: CE, exact: bool, stripped: bool = False) -> CE:
        # ASCII text (as many bytes as characters in UTF-8) is already NFC and
        # folds by `lower` alone, so it skips the long chain of replacements,
        # most of the cost of reading text on large tables. Text that is ASCII
        # before stripping is ASCII after it.
        ascii_only = sa.func.octet_length(text) == sa.func.length(text)
        plain = text if stripped else self.strip(text)
        fast = plain if exact else sa.func.lower(plain)
        slow = super().text_key(plain, exact, stripped=True)
        return sa.case((ascii_only, fast), else_=slow)

    def matches(self, text: CE, pattern: str) -> CE:
        return text.op("~")(_text(pattern))

    def group(self, text: CE, pattern: str, number: int) -> CE:
        found = sa.func.regexp_match(
            text, _text(pattern), type_=postgresql.ARRAY(sa.Text)
        )
        return found[number]

    def regex_replace(self, text: CE, pattern: str, replacement: str) -> CE:
        return sa.func.regexp_replace(text, _text(pattern), _text(replacement))

    def split(self, text: CE, separator: str) -> FromClause:
        parts = sa.func.string_to_array(text, _text(separator))
        return sa.func.unnest(parts).table_valued("item").render_derived("parts")

    def list_keys(self, items: CE, separator: str, exact: bool) -> CE:
        # One array per row instead of splitting the text again for every
        # condition on the list.
        parts = self.split(items, separator)
        key = self.text_key(parts.c.item, exact)
        keys = sa.select(key).select_from(parts).scalar_subquery()
        keyed = sa.func.array(keys, type_=postgresql.ARRAY(sa.Text))
        if not (separator.isascii() and separator.isprintable()) or any(
            c.isspace() for c in separator
        ):
            return keyed
        # ASCII text needs no subquery: stripped (and lower-cased) whole, then
        # split where the separator and the blanks around it are, it gives the
        # same keys, except '' (no items, where a split gives one).
        blank = "".join(c for c in whitespace() if c.isascii())
        text = sa.func.btrim(items, _text(blank))
        pattern = f"[{blank}]*{re.escape(separator)}[{blank}]*"
        split = sa.func.regexp_split_to_array(
            text if exact else sa.func.lower(text),
            _text(pattern),
            type_=postgresql.ARRAY(sa.Text),
        )
        ascii_only = sa.func.octet_length(items) == sa.func.length(items)
        none = sa.cast(_text("{}"), postgresql.ARRAY(sa.Text))
        return sa.case((items == "", none), (ascii_only, split), else_=keyed)

    def keys_have_any(self, keys: CE, wanted: list[str]) -> CE:
        found = keys.bool_op("&&")(_text_array(wanted))
        return sa.func.coalesce(found, sa.false())

    def keys_have_all(self, keys: CE, wanted: list[str]) -> CE:
        found = keys.bool_op("@>")(_text_array(wanted))
        return sa.func.coalesce(found, sa.false())

    def keys_have(self, keys: CE, item: CE) -> CE:
        return sa.func.coalesce(item == sa.any_(keys), sa.false())

    def keys_nonempty(self, keys: CE) -> CE:
        return sa.func.coalesce(_text("") != sa.any_(keys), sa.false())

    def step(self, select: sa.Select[Any], name: str) -> sa.CTE:
        # OFFSET 0 keeps the step from being merged into the next (which would
        # evaluate its expressions once per use) without writing its rows
        # aside as MATERIALIZED does: each row flows through every step.
        return select.offset(0).cte(name)

    def number(self, value: Decimal | int) -> CE:
        return sa.literal(Decimal(value), sa.Numeric())

    def number_from_text(self, text: CE) -> CE:
        return sa.cast(text, sa.Numeric())

    def number_from_column(self, column: CE) -> CE:
        return sa.cast(column, sa.Numeric())

    def timezone(self, tz: str, value: CE) -> CE:
        return sa.func.timezone(_text(tz), value)

    def minutes(self, count: int) -> CE:
        return sa.func.make_interval(0, 0, 0, 0, 0, sa.literal(count, sa.Integer()))

    def decimal_from_units(self, units: CE, scale: int) -> CE:
        # NUMERIC without a precision: the same value, no precision check.
        step = Decimal(1).scaleb(-scale)
        return sa.cast(units, sa.Numeric()) * sa.literal(step, sa.Numeric())


class DuckDBDialect(Dialect):
    """DuckDB 1.1 or newer (ICU built in): DECIMAL(38,10), `nfc_normalize`."""

    name = "duckdb"
    number_scale = 10

    def finite_date(self, value: CE) -> CE:
        return sa.func.isfinite(value)

    def strip(self, text: CE) -> CE:
        return sa.func.trim(text, _text(whitespace()))

    def nfc(self, text: CE) -> CE:
        return sa.func.nfc_normalize(text)

    def matches(self, text: CE, pattern: str) -> CE:
        return sa.func.regexp_full_match(text, _text(pattern))

    def group(self, text: CE, pattern: str, number: int) -> CE:
        return sa.func.regexp_extract(text, _text(pattern), number)

    def regex_replace(self, text: CE, pattern: str, replacement: str) -> CE:
        return sa.func.regexp_replace(text, _text(pattern), _text(replacement))

    def split(self, text: CE, separator: str) -> FromClause:
        parts = sa.func.string_split(text, _text(separator))
        return sa.func.unnest(parts).table_valued("item").render_derived("parts")

    def number(self, value: Decimal | int) -> CE:
        value = Decimal(value)
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -10:
            raise self.unsupported(f"the number {value} (more than 10 decimal places)")
        return sa.cast(sa.literal(value, sa.Numeric()), _DECIMAL)

    def number_type(self) -> sa.types.TypeEngine[Any]:
        return _DECIMAL

    def number_from_text(self, text: CE) -> CE:
        return sa.try_cast(text, _DECIMAL)

    def number_from_column(self, column: CE) -> CE:
        return sa.try_cast(column, _DECIMAL)

    def arithmetic(self, op: str, left: CE, right: CE) -> CE:
        if op == "/":  # DuckDB divides decimals in DOUBLE; keep 10 places
            quotient = sa.cast(left, sa.Double()) / sa.func.nullif(
                sa.cast(right, sa.Double()), 0
            )
            return sa.try_cast(quotient, _DECIMAL)
        return sa.cast(super().arithmetic(op, left, right), _DECIMAL)

    def timezone(self, tz: str, value: CE) -> CE:
        return sa.func.timezone(_text(tz), value)

    def minutes(self, count: int) -> CE:
        return sa.func.to_minutes(sa.literal(count, sa.BigInteger()))

    def columns(
        self, connection: Connection, schema: str | None, table: str
    ) -> list[tuple[str, sa.types.TypeEngine[Any]]]:
        """From `information_schema`: duckdb_engine 0.17's reflection under
        SQLAlchemy 2.1 queries `pg_catalog.pg_collation`, which DuckDB lacks."""
        query = sa.text(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = :table "
            "AND table_schema = coalesce(:schema, current_schema()) "
            "AND table_catalog = current_database() "
            "ORDER BY ordinal_position"
        )
        rows = connection.execute(query, {"table": table, "schema": schema})
        return [(name, _duckdb_type(kind)) for name, kind in rows]


def _duckdb_type(name: str) -> sa.types.TypeEngine[Any]:
    name = name.upper()
    if name.startswith(("DECIMAL", "NUMERIC")):
        return sa.Numeric()
    if name.startswith("TIMESTAMP"):
        return sa.DateTime(timezone="TIME ZONE" in name or name == "TIMESTAMPTZ")
    known: dict[str, sa.types.TypeEngine[Any]] = {
        "BOOLEAN": sa.Boolean(),
        "DATE": sa.Date(),
        "DOUBLE": sa.Float(),
        "FLOAT": sa.Float(),
        "REAL": sa.Float(),
        "VARCHAR": sa.Text(),
    }
    if name in known:
        return known[name]
    if name.endswith("INT") or name in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT"):
        return sa.Integer()
    return sa.types.NullType()


_DECIMAL = sa.Numeric(38, 10)


def _no_implicit_commits(dbapi_connection: Any, record: Any) -> None:
    dbapi_connection.isolation_level = None


class SQLiteDialect(Dialect):
    """SQLite: tierwise's own Python functions, registered on each connection.

    Typed values are held as text SQLite can compare: numbers as canonical
    decimals (compared and computed by `tierwise_*` functions), dates as
    `YYYY-MM-DD`, instants as UTC ISO text, lists as JSON arrays of keys.
    """

    name = "sqlite"
    python_reader = True

    def install(self, engine: Engine) -> None:
        sa.event.listen(engine, "connect", register_sqlite_functions)
        # Python's sqlite3 commits before DDL on its own, so a failed
        # `--into ... --replace` would keep the DROP of the old table. Leave
        # transactions to SQLAlchemy's BEGIN instead (its documented recipe),
        # so that a run that fails changes nothing.
        sa.event.listen(engine, "connect", _no_implicit_commits)
        sa.event.listen(engine, "begin", lambda c: c.exec_driver_sql("BEGIN"))

    def read_fact(self, raw: CE, spec: dict[str, Any]) -> tuple[CE, CE]:
        """The typed value (NULL when missing or unreadable) and the problem."""
        text = json.dumps(spec, sort_keys=True)
        value = sa.func.tierwise_read(raw, _text(text))
        problem = sa.func.tierwise_problem(raw, _text(text))
        return value, problem

    def null(self, family: str) -> CE:
        return sa.null()

    def strip(self, text: CE) -> CE:
        return sa.func.tierwise_strip(text)

    def text_key(self, text: CE, exact: bool, stripped: bool = False) -> CE:
        return sa.func.tierwise_key(text, exact)

    def text_contains(self, container: CE, item: CE) -> CE:
        return sa.func.instr(container, item) > 0

    def number(self, value: Decimal | int) -> CE:
        return _text(canonical(Decimal(value)))

    def arithmetic(self, op: str, left: CE, right: CE) -> CE:
        return sa.func.tierwise_arithmetic(_text(op), left, right)

    def negate(self, operand: CE) -> CE:
        return sa.func.tierwise_arithmetic(_text("-"), _text("0"), operand)

    def whole(self, value: CE) -> CE:
        return sa.func.tierwise_arithmetic(_text("+"), value, _text("0"))

    def compare(self, op: str, left: CE, right: CE, family: str) -> CE:
        if family != "numeric":
            return super().compare(op, left, right, family)
        order = sa.func.tierwise_compare(left, right)
        return sa.BinaryExpression(order, sa.literal(0), _COMPARATORS[op])

    def literal(self, value: Any) -> CE:
        if isinstance(value, bool):
            return sa.literal(int(value), sa.Integer())
        if isinstance(value, dt.datetime):
            return _text(utc_text(value))
        if isinstance(value, dt.date):
            return _text(value.isoformat())
        return super().literal(value)

    def local_date(self, instant: CE, tz: str) -> CE:
        return sa.func.tierwise_local_date(instant, _text(tz))

    def local_midnight(self, date: CE, tz: str) -> CE:
        return sa.func.tierwise_midnight(date, _text(tz))

    def days_between(self, early: CE, late: CE) -> CE:
        return sa.func.tierwise_days(early, late)

    def date_part(self, date: CE, part: str) -> CE:
        start, length = {"year": (1, 4), "month": (6, 2), "day": (9, 2)}[part]
        return sa.cast(sa.func.substr(date, start, length), sa.Integer())

    def list_has(self, items: CE, separator: str, exact: bool, item: CE) -> CE:
        return sa.func.tierwise_list_any(items, sa.func.json_array(item))

    def list_has_any(
        self, items: CE, separator: str, exact: bool, keys: list[str]
    ) -> CE:
        return sa.func.tierwise_list_any(items, _text(json.dumps(keys)))

    def list_has_all(
        self, items: CE, separator: str, exact: bool, keys: list[str]
    ) -> CE:
        return sa.func.tierwise_list_all(items, _text(json.dumps(keys)))

    def list_default(self, fact: ast.FactDecl, typed: frozenset[str]) -> CE:
        return _text(json.dumps(sorted(typed)))

    def decimal_type(self, scale: int) -> sa.types.TypeEngine[Any]:
        return sa.Text()

    def decimal_from_units(self, units: CE, scale: int) -> CE:
        return sa.func.tierwise_decimal(units, scale)

    def join_texts(self, parts: Sequence[CE]) -> CE:
        return sa.func.tierwise_join(*parts)


# ---- the Python side of SQLite ---------------------------------------------------


def canonical(value: Decimal) -> str:
    """A decimal as text that is equal exactly when the numbers are equal."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def utc_text(value: dt.datetime) -> str:
    """An instant as fixed-width UTC text, so that text order is time order."""
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


@functools.lru_cache(maxsize=256)
def _reader(spec: str) -> tuple[Callable[[Any], Any], str, str]:
    from tierwise.engine.coerce import make_coercer, time_zone

    data = json.loads(spec)
    fact = ast.FactDecl(
        name=data["name"],
        kind=data["kind"],
        span=ast.NO_SPAN,
        enum_values=tuple(data["enum"]),
        no_value=tuple(data["no_value"]),
        split_on=data["split"],
        date_format=data["format"],
        exact=data["exact"],
    )
    return make_coercer(fact, time_zone(data["tz"])), data["kind"], data["column"]


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, Decimal)):
        return canonical(Decimal(value))
    if isinstance(value, dt.datetime):
        return utc_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return json.dumps(sorted(value))  # a list of text: its keys


def _read(raw: Any, spec: str) -> Any:
    from tierwise.engine.coerce import BadValue

    coerce, _, _ = _reader(spec)
    try:
        return _encode(coerce(raw))
    except BadValue:
        return None


def _problem(raw: Any, spec: str) -> str | None:
    from tierwise.engine.coerce import BadValue

    coerce, _, column = _reader(spec)
    try:
        coerce(raw)
    except BadValue as exc:
        return f"{column}: {exc}"
    return None


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError):
        return None


def _arithmetic(op: str, left: Any, right: Any) -> str | None:
    a, b = _decimal(left), _decimal(right)
    if a is None or b is None:
        return None
    if op == "/":
        return None if b == 0 else canonical(a / b)
    result = {"+": a + b, "-": a - b, "*": a * b}[op]
    return canonical(result)


def _compare(left: Any, right: Any) -> int | None:
    a, b = _decimal(left), _decimal(right)
    if a is None or b is None:
        return None
    return (a > b) - (a < b)


def _zone(name: str) -> dt.tzinfo:
    from tierwise.engine.coerce import time_zone

    return time_zone(name)


def _local_date(instant: str | None, tz: str) -> str | None:
    if instant is None:
        return None
    return dt.datetime.fromisoformat(instant).astimezone(_zone(tz)).date().isoformat()


def _midnight(date: str | None, tz: str) -> str | None:
    if date is None:
        return None
    day = dt.date.fromisoformat(date)
    return utc_text(dt.datetime.combine(day, dt.time(), _zone(tz)))


def _days(early: str | None, late: str | None) -> str | None:
    if early is None or late is None:
        return None
    days = (dt.date.fromisoformat(late) - dt.date.fromisoformat(early)).days
    return canonical(Decimal(days))


def _list_any(items: str | None, keys: str) -> int | None:
    if items is None:
        return None
    return int(not set(json.loads(items)).isdisjoint(json.loads(keys)))


def _list_all(items: str | None, keys: str) -> int | None:
    if items is None:
        return None
    return int(set(json.loads(keys)) <= set(json.loads(items)))


def _units_decimal(units: int | None, scale: int) -> str | None:
    return None if units is None else canonical(Decimal(units).scaleb(-scale))


def _join(*parts: str | None) -> str | None:
    shown = [p for p in parts if p is not None]
    return "; ".join(shown) if shown else None


def _key(text: Any, exact: Any) -> str | None:
    return None if text is None else text_key(str(text), bool(exact))


SQLITE_FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "tierwise_read": (2, _read),
    "tierwise_problem": (2, _problem),
    "tierwise_strip": (1, lambda t: None if t is None else str(t).strip()),
    "tierwise_key": (2, _key),
    "tierwise_arithmetic": (3, _arithmetic),
    "tierwise_compare": (2, _compare),
    "tierwise_local_date": (2, _local_date),
    "tierwise_midnight": (2, _midnight),
    "tierwise_days": (2, _days),
    "tierwise_list_any": (2, _list_any),
    "tierwise_list_all": (2, _list_all),
    "tierwise_decimal": (2, _units_decimal),
    "tierwise_join": (-1, _join),
}


def register_sqlite_functions(connection: Any, record: Any = None) -> None:
    """Register tierwise's functions on a raw `sqlite3` connection."""
    for name, (arity, function) in SQLITE_FUNCTIONS.items():
        connection.create_function(name, arity, function, deterministic=True)


# ---- choosing a dialect ----------------------------------------------------------

_DIALECTS: dict[str, type[Dialect]] = {
    "postgresql": PostgresDialect,
    "duckdb": DuckDBDialect,
    "sqlite": SQLiteDialect,
}


def register_dialect(name: str, dialect: type[Dialect]) -> None:
    """Use `dialect` for SQLAlchemy engines whose dialect is called `name`."""
    _DIALECTS[name] = dialect


def dialect_for(name: str) -> Dialect:
    """The dialect for a SQLAlchemy dialect name (the base one if unknown)."""
    found = _DIALECTS.get(name)
    if found is not None:
        return found()
    generic = Dialect()
    generic.name = name
    return generic
