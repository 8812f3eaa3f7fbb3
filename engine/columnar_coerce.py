"""Raw text columns to typed fact columns, by the reading rules of `coerce.py`.

For each fact, polars expressions read the common spellings: plain and grouped
numbers, a sign and a dollar sign on money, ISO dates, yes/no words and ASCII
text (for which trimming and case-folding are what Python does). Every other
value goes through the fact's own coercer from `engine/coerce.py`, once per
distinct value, so unusual values and the reasons for rejecting them are the
per-account path's by construction.

Typed columns (`f{i}` for fact i):

| fact | polars column |
|---|---|
| int, number, money | Int128: value x 10**scale (0 for int, 10 otherwise) |
| text, one of | the comparison key: trimmed, NFC, case-folded unless exact |
| bool | Boolean |
| date | Date (`m{i}`: its local midnight in microseconds, for datetimes) |
| datetime | Int64 microseconds since 1970 UTC (`d{i}`: its date in the policy's zone) |
| list of text | its text, lower-cased unless exact; `list_has` finds items |

A value the column cannot hold exactly (more than 10 decimals, 10**21 or more)
makes its record "exotic": the per-account evaluator grades that record.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl

from tierwise.dsl import ast
from tierwise.dsl.typecheck import normalize_text
from tierwise.dsl.types import FALSE_WORDS, TRUE_WORDS
from tierwise.engine.coerce import BadValue, make_coercer
from tierwise.engine.columnar_read import RawBatch
from tierwise.engine.policy import CompiledPolicy
from tierwise.engine.result import FieldProblem

# What str.strip() removes from ASCII text.
ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
NUMBER_SCALE = 10
DIGITS = 21  # whole digits a numeric column holds: |value| < 10**21
# A fact is read value by value when it has at most this many distinct values
# (or a batch's 1/DISTINCT_SHARE): Python then reads each distinct value once.
DISTINCT_FLOOR = 4096
DISTINCT_SHARE = 8
SAMPLE = 4096
_WHOLE = r"(?:[0-9]{1,21}|[0-9]{1,3}(?:,[0-9]{3}){1,6})"
_NUMBER = rf"^[+-]?{_WHOLE}(?:\.[0-9]{{1,10}})?$"
_MONEY = rf"^[+-]?\$?{_WHOLE}(?:\.[0-9]{{1,10}})?$"
_DATE = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}$"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)

DTYPES: dict[str, pl.DataType] = {
    "int": pl.Int128(),
    "number": pl.Int128(),
    "money": pl.Int128(),
    "text": pl.String(),
    "enum": pl.String(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "datetime": pl.Int64(),
    "list": pl.String(),
}


def scale_of(fact: ast.FactDecl) -> int:
    return 0 if fact.kind == "int" else NUMBER_SCALE


def micros(value: dt.datetime) -> int:
    return (value - EPOCH) // MICROSECOND


@dataclass
class Coerced:
    """A batch with typed fact columns, the field problems and the exotic rows."""

    frame: pl.DataFrame
    problems: dict[int, list[FieldProblem]] = field(default_factory=dict)
    exotic: set[int] = field(default_factory=set)


class Coercion:
    """Reads every fact of a policy from a `RawBatch`, in three passes.

    A first pass reads every row with the cheapest exact rule (plain digits,
    an ISO date, ASCII text); a second reads the rows it left, now trimmed,
    with the rest of the common spellings (grouped digits, money); the fact's
    Python coercer reads what remains, once per distinct value.
    """

    def __init__(self, policy: CompiledPolicy, midnights: set[int]):
        self.policy = policy
        self.tz = policy.tz
        self.facts = policy.facts
        self.midnights = midnights
        self.coercers = [make_coercer(f, policy.tz) for f in self.facts]
        self.defaults = [self._default(i) for i in range(len(self.facts))]

    def _default(self, index: int) -> Any:
        fact = self.facts[index]
        if fact.default is None:
            return None
        value, _ = self.represent(index, self.coercers[index](None))
        return value

    # ---- the whole batch ---------------------------------------------------

    def apply(self, batch: RawBatch) -> Coerced:
        frame = batch.frame
        distinct = [self._distinct(i, frame) for i in range(len(self.facts))]
        first = [
            expr
            for i, fact in enumerate(self.facts)
            if distinct[i] is None
            for expr in _first_pass(i, fact)
        ]
        if first:
            frame = frame.lazy().with_columns(first).collect()
        coerced = Coerced(frame)
        columns: list[pl.Series] = []
        for index, values in enumerate(distinct):
            if values is None:
                columns += self._by_passes(index, batch, coerced)
            else:
                columns += self._by_value(index, values, batch, coerced)
        drop = [c for c in frame.columns if c[0] == "_" and c[1] != "_"]
        coerced.frame = frame.with_columns(columns).drop(drop)
        if self.midnights:
            coerced.frame = coerced.frame.with_columns(
                self._midnight(i, coerced.frame) for i in sorted(self.midnights)
            )
        return coerced

    def _distinct(self, index: int, frame: pl.DataFrame) -> pl.Series | None:
        """Fact `index`'s distinct raw values when there are few enough for Python
        to read each one (cheaper than the passes, and exact by construction)."""
        raw = frame.get_column(f"r{index}")
        limit = max(DISTINCT_FLOOR, frame.height // DISTINCT_SHARE)
        if raw.head(SAMPLE).n_unique() > SAMPLE // 2:  # mostly distinct values
            return None
        values = raw.drop_nulls().unique()
        return values if values.len() <= limit else None

    def _by_value(
        self, index: int, distinct: pl.Series, batch: RawBatch, coerced: Coerced
    ) -> list[pl.Series]:
        """Fact `index` read by its Python coercer, once per distinct raw value."""
        fact = self.facts[index]
        dtype = DTYPES[fact.kind]
        raw = coerced.frame.get_column(f"r{index}")
        read = [self._read(index, value) for value in distinct.to_list()]
        mapped = pl.Series([r[0] for r in read], dtype=dtype)
        values = raw.replace_strict(distinct, mapped, default=None, return_dtype=dtype)
        default = self.defaults[index]
        if default is not None:
            values = values.fill_null(pl.lit(default, dtype))
        self._note(index, raw, distinct, read, batch, coerced)
        rows: list[int] = sorted(batch.typed.get(index, {}))
        locals_: list[Any] = []
        if rows:
            slow, locals_ = self._slow(index, rows, coerced.frame, batch, coerced)
            values = values.scatter(rows, pl.Series(slow, dtype=dtype))
        out = [values.alias(f"f{index}")]
        if fact.kind == "datetime":
            days = pl.Series([r[1] for r in read], dtype=pl.Date)
            local = raw.replace_strict(
                distinct, days, default=None, return_dtype=pl.Date
            )
            fallback = self._default_local(index)
            if fallback is not None:
                local = local.fill_null(pl.lit(fallback, pl.Date))
            if rows:
                local = local.scatter(rows, pl.Series(locals_, dtype=pl.Date))
            out.append(local.alias(f"d{index}"))
        return out

    def _note(
        self,
        index: int,
        raw: pl.Series,
        distinct: pl.Series,
        read: list[tuple[Any, Any, str | None, bool]],
        batch: RawBatch,
        coerced: Coerced,
    ) -> None:
        """Record the rows whose value was rejected or cannot be held exactly."""
        bad = {v: r[2] for v, r in zip(distinct.to_list(), read) if r[2] or r[3]}
        if not bad:
            return
        wanted = pl.Series(list(bad), dtype=pl.String).implode()
        rows = raw.is_in(wanted).arg_true().to_list()
        for row, value in zip(rows, raw.gather(rows).to_list()):
            reason = bad[value]
            if reason is None:
                coerced.exotic.add(row)
                continue
            name = batch.row_names.get(row, batch.names)[index]
            coerced.problems.setdefault(row, []).append(
                FieldProblem(field=name, value=value, reason=reason)
            )

    def _by_passes(
        self, index: int, batch: RawBatch, coerced: Coerced
    ) -> list[pl.Series]:
        """Fact `index`: the passes' values and the default merged."""
        fact = self.facts[index]
        dtype = DTYPES[fact.kind]
        frame = coerced.frame
        raw = frame.get_column(f"r{index}")
        values = frame.get_column(f"_v{index}").cast(dtype)
        missing = frame.get_column(f"_m{index}")
        rest = (values.is_null() & ~missing & raw.is_not_null()).arg_true()
        if rest.len():
            values, missing = _second_pass(
                fact, raw.gather(rest), rest, values, missing
            )
        left = values.is_null() & ~missing & raw.is_not_null()
        rows = left.arg_true().to_list()
        typed = batch.typed.get(index, {})
        if typed:
            rows = sorted(set(rows) | set(typed))
        default = self.defaults[index]
        if default is not None:
            filler = pl.repeat(default, frame.height, dtype=dtype, eager=True)
            values = values.zip_with(~missing, filler)
        locals_: list[Any] = []
        if rows:
            slow, locals_ = self._slow(index, rows, frame, batch, coerced)
            values = values.scatter(rows, pl.Series(slow, dtype=dtype))
        out = [values.alias(f"f{index}")]
        if fact.kind == "datetime":
            out.append(self._local_dates(index, rows, locals_, missing))
        return out

    def _default_local(self, index: int) -> dt.date | None:
        default = self.coercers[index](None)
        return default.astimezone(self.tz).date() if default else None

    def _slow(
        self,
        index: int,
        rows: list[int],
        frame: pl.DataFrame,
        batch: RawBatch,
        coerced: Coerced,
    ) -> tuple[list[Any], list[Any]]:
        """Values (and local dates, for datetimes) from the Python coercer."""
        raws = frame.get_column(f"r{index}").gather(rows).to_list()
        typed = batch.typed.get(index, {})
        cache: dict[str, tuple[Any, Any, str | None, bool]] = {}
        values, locals_ = [], []
        for row, raw in zip(rows, raws):
            raw = typed.get(row, raw)
            if isinstance(raw, str):
                if raw not in cache:
                    cache[raw] = self._read(index, raw)
                value, local, problem, exotic = cache[raw]
            else:
                value, local, problem, exotic = self._read(index, raw)
            values.append(value)
            locals_.append(local)
            if problem is not None:
                name = batch.row_names.get(row, batch.names)[index]
                coerced.problems.setdefault(row, []).append(
                    FieldProblem(field=name, value=str(raw), reason=problem)
                )
            if exotic:
                coerced.exotic.add(row)
        return values, locals_

    def _read(self, index: int, raw: Any) -> tuple[Any, Any, str | None, bool]:
        try:
            value = self.coercers[index](raw)
        except BadValue as exc:
            return None, None, str(exc), False
        represented, exact = self.represent(index, value)
        local = None
        if isinstance(value, dt.datetime):
            local = value.astimezone(self.tz).date()
        return represented, local, None, not exact

    def represent(self, index: int, value: Any) -> tuple[Any, bool]:
        """`value` as its column holds it, and whether that is exact."""
        if value is None:
            return None, True
        fact = self.facts[index]
        if fact.kind in ("int", "number", "money"):
            return _scaled(value, scale_of(fact))
        if fact.kind == "datetime":
            return micros(value), True
        if fact.kind == "list":  # an item holding the separator would read as two
            separator = fact.split_on or ","
            return separator.join(sorted(value)), all(separator not in k for k in value)
        return value, True

    def _local_dates(
        self, index: int, rows: list[int], locals_: list[Any], missing: pl.Series
    ) -> pl.Series:
        fallback = self._default_local(index)
        series = pl.Series(f"d{index}", [fallback] * missing.len(), dtype=pl.Date)
        if rows:
            series = series.scatter(rows, pl.Series(locals_, dtype=pl.Date))
        return series

    def _midnight(self, index: int, frame: pl.DataFrame) -> pl.Expr:
        """A date fact's local midnight, for comparing it with a datetime."""
        days = frame.get_column(f"f{index}").drop_nulls().unique().to_list()
        stamps = [micros(dt.datetime.combine(d, dt.time(), self.tz)) for d in days]
        return (
            pl.col(f"f{index}")
            .replace_strict(days, stamps, default=None, return_dtype=pl.Int64)
            .alias(f"m{index}")
        )


def _scaled(value: Any, scale: int) -> tuple[int | None, bool]:
    """value x 10**scale as an int, if that is exact and within the column's range."""
    number = Decimal(value)
    if not number.is_finite():
        return None, False
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    whole = int("".join(map(str, digits)) or "0")
    shift = exponent + scale
    if shift < 0:
        if whole % 10**-shift:
            return None, False
        whole //= 10**-shift
    else:
        whole *= 10**shift
    if whole >= 10 ** (DIGITS + scale):
        return None, False
    return (-whole if sign else whole), True


# ---- the passes ----------------------------------------------------------------


def _first_pass(index: int, fact: ast.FactDecl) -> list[pl.Expr]:
    """`_v{i}`: a value read by the cheapest exact rule, or null; `_m{i}`: missing."""
    raw = pl.col(f"r{index}")
    ascii_ = raw.str.len_bytes() == raw.str.len_chars()
    kind = fact.kind
    if kind in ("int", "number", "money"):
        whole = raw.str.to_integer(strict=False, dtype=pl.Int128)
        fits = (whole < 10**DIGITS) & (whole > -(10**DIGITS))
        value: pl.Expr = pl.when(fits).then(whole * 10 ** scale_of(fact))
        return [value.alias(f"_v{index}"), raw.is_null().alias(f"_m{index}")]
    if kind == "date" or kind == "datetime":
        value = pl.lit(None, DTYPES[kind])
        if kind == "date" and not fact.date_format:
            iso = raw.str.to_date("%Y-%m-%d", strict=False)
            value = pl.when(raw.str.contains(_DATE)).then(iso)
        return [value.alias(f"_v{index}"), raw.is_null().alias(f"_m{index}")]
    stripped = raw.str.strip_chars(ASCII_SPACE)
    key = stripped if fact.exact and kind == "text" else stripped.str.to_lowercase()
    keyed, empty = _KEYS[kind](fact, raw, key)
    missing = raw.is_null() | (ascii_ & (stripped == ""))
    spellings = [s for s in (normalize_text(v) for v in fact.no_value) if s.isascii()]
    if spellings:
        missing = missing | (ascii_ & stripped.str.to_lowercase().is_in(spellings))
    if empty is not None:
        missing = missing | (ascii_ & empty)
    value = pl.when(ascii_ & ~missing).then(keyed)
    return [value.alias(f"_v{index}"), missing.alias(f"_m{index}")]


def _second_pass(
    fact: ast.FactDecl,
    raw: pl.Series,
    rows: pl.Series,
    values: pl.Series,
    missing: pl.Series,
) -> tuple[pl.Series, pl.Series]:
    """The rows the first pass left, trimmed: empty ones, no-value spellings and
    numbers with thousands separators or a currency sign."""
    part = pl.DataFrame({"raw": raw}).lazy()
    stripped = pl.col("raw").str.strip_chars(ASCII_SPACE)
    ascii_ = pl.col("raw").str.len_bytes() == pl.col("raw").str.len_chars()
    empty = ascii_ & (stripped == "")
    spellings = [s for s in (normalize_text(v) for v in fact.no_value) if s.isascii()]
    if spellings:
        empty = empty | (ascii_ & stripped.str.to_lowercase().is_in(spellings))
    parsed = _SECOND.get(fact.kind, _nothing)(fact, stripped, ascii_)
    out = part.select(
        pl.when(~empty).then(parsed).alias("v"), empty.alias("m")
    ).collect()
    values = values.scatter(rows, out.get_column("v").cast(values.dtype))
    missing = missing.scatter(rows, out.get_column("m"))
    return values, missing


def _nothing(fact: ast.FactDecl, stripped: pl.Expr, ascii_: pl.Expr) -> pl.Expr:
    return pl.lit(None, DTYPES[fact.kind])


def _number(fact: ast.FactDecl, stripped: pl.Expr, ascii_: pl.Expr) -> pl.Expr:
    """A plain, grouped or (money) signed and dollar-marked number, x 10**scale."""
    shape = _MONEY if fact.kind == "money" else _NUMBER
    body = stripped.str.strip_chars_start("+-$").str.replace_all(",", "", literal=True)
    if fact.kind == "int":  # whole numbers, perhaps written "1200.0"
        magnitude = body.str.replace(r"\.0+$", "").str.to_integer(
            strict=False, dtype=pl.Int128
        )
    else:
        magnitude = body.str.to_decimal(scale=NUMBER_SCALE).to_physical()
    signed = pl.when(stripped.str.starts_with("-")).then(magnitude * -1)
    return pl.when(ascii_ & stripped.str.contains(shape)).then(
        signed.otherwise(magnitude)
    )


def _date(fact: ast.FactDecl, stripped: pl.Expr, ascii_: pl.Expr) -> pl.Expr:
    if fact.date_format:  # strptime's rules: Python reads each distinct value
        return pl.lit(None, pl.Date)
    iso = stripped.str.to_date("%Y-%m-%d", strict=False)
    return pl.when(ascii_ & stripped.str.contains(_DATE)).then(iso)


_SECOND: dict[str, Callable[[ast.FactDecl, pl.Expr, pl.Expr], pl.Expr]] = {
    "int": _number,
    "number": _number,
    "money": _number,
    "date": _date,
}

KeyRule = Callable[[ast.FactDecl, pl.Expr, pl.Expr], tuple[pl.Expr, pl.Expr | None]]


def _text(fact: ast.FactDecl, raw: pl.Expr, key: pl.Expr) -> tuple[pl.Expr, None]:
    return key, None


def _enum(fact: ast.FactDecl, raw: pl.Expr, key: pl.Expr) -> tuple[pl.Expr, None]:
    allowed = [k for k in (normalize_text(v) for v in fact.enum_values) if k.isascii()]
    return pl.when(key.is_in(allowed)).then(key), None


def _bool(fact: ast.FactDecl, raw: pl.Expr, key: pl.Expr) -> tuple[pl.Expr, None]:
    value = (
        pl.when(key.is_in(sorted(TRUE_WORDS)))
        .then(pl.lit(True))
        .when(key.is_in(sorted(FALSE_WORDS)))
        .then(pl.lit(False))
    )
    return value, None


def _list(fact: ast.FactDecl, raw: pl.Expr, key: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """A list stays text (its items are found by `list_has`); it is missing when
    no item is left once the items are trimmed and the empty ones dropped."""
    separator = fact.split_on or ","
    if len(separator) != 1:  # Python splits: it reads each distinct value
        return pl.lit(None, pl.String), pl.lit(False)
    text = raw if fact.exact else raw.str.to_lowercase()
    content = "[^" + re.escape(separator + ASCII_SPACE) + "]"
    return text, ~raw.str.contains(content)


def list_has(column: pl.Expr, fact: ast.FactDecl, keys: list[str]) -> pl.Expr:
    """Whether a list column (see `_list`) has any of `keys` as an item."""
    separator = fact.split_on or ","
    wanted = [k for k in keys if k and separator not in k]
    if not wanted:
        return pl.when(column.is_null()).then(None).otherwise(False)
    sep, space = re.escape(separator), "[" + re.escape(ASCII_SPACE) + "]*"
    items = "|".join(re.escape(k) for k in wanted)
    return column.str.contains(f"(?:^|{sep}){space}(?:{items}){space}(?:{sep}|$)")


_KEYS: dict[str, KeyRule] = {
    "text": _text,
    "enum": _enum,
    "bool": _bool,
    "list": _list,
}
