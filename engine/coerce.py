"""Raw input values to the typed values a policy compares.

Accounts arrive as strings from CSV or as JSON values. Each declared fact gets
a coercer, built once per policy, that turns a raw value into its typed value
or `None` (missing), or raises `BadValue` with a reason a person can act on.
Nothing is guessed: a number that does not parse is rejected, never zero.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from tierwise.dsl import ast
from tierwise.dsl.typecheck import normalize_text, text_key
from tierwise.dsl.types import FALSE_WORDS, TRUE_WORDS

Coercer = Callable[[Any], Any]

_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_CURRENCY = "$€£¥"
# No account fact needs numbers beyond 10^±40; refusing them keeps every
# comparison and division fast and exact (1e999999999 would not be).
MAGNITUDE = 40


class BadValue(ValueError):
    """A raw value that cannot be read as its fact's type."""


def make_coercer(fact: ast.FactDecl, tz: dt.tzinfo) -> Coercer:
    """A function from a raw value to the fact's typed value, or None if missing.

    Text is what CSV files and CRMs send, and the same few spellings come back
    again and again (an industry, a country, a date), so each coercer
    remembers what up to `MEMO_SIZE` distinct texts read as. Values already
    of the fact's type (JSON numbers, booleans, dates) skip the reading.
    """
    convert = _converter(fact, tz)
    no_value = frozenset(normalize_text(v) for v in fact.no_value)
    default = None
    if fact.default is not None:
        default = convert(_raw_literal(fact.default.value))
    ready = _READY.get(fact.kind, ())
    numeric = fact.kind in ("number", "money")
    listed = fact.kind == "list"
    memo: dict[str, Any] = {}

    def read(raw: Any) -> Any:
        if isinstance(raw, dict) or (isinstance(raw, list) and fact.kind != "list"):
            kind = "an object" if isinstance(raw, dict) else "a list"
            raise BadValue(f"{_show(raw)} is {kind}, not a single value")
        if isinstance(raw, _BYTES):  # its str() would be "b'...'"
            raise BadValue(_bytes_problem(raw))
        if isinstance(raw, str):
            stripped = raw.strip()
            if not stripped or (no_value and _is_no_value(stripped, no_value)):
                return default
        value = convert(raw)
        return default if value is None else value

    def coerce(raw: Any) -> Any:
        kind = type(raw)
        if kind is str:
            found = memo.get(raw, memo)
            if found is not memo:
                return found
            value = read(raw)
            if len(memo) < MEMO_SIZE:
                memo[raw] = value
            return value
        if raw is None:
            return default
        if kind in ready:
            return raw
        if kind is int and numeric:
            return Decimal(raw)
        if kind is list and listed:
            value = convert(raw)
            return default if value is None else value
        return read(raw)

    return coerce


_BYTES = (bytes, bytearray, memoryview)


def _bytes_problem(raw: bytes | bytearray | memoryview) -> str:
    return f"{bytes(raw[:60])!r} is bytes, not text: decode it first"


# Exact types a fact of each kind takes as they are (bool is not an int here).
_READY: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "bool": (bool,),
    "date": (dt.date,),
}
MEMO_SIZE = 4096  # distinct texts remembered per fact


def _show(raw: Any, limit: int = 60) -> str:
    """A raw value for a message: quoted, and cut short when it is long."""
    text = str(raw)
    return f"'{text}'" if len(text) <= limit else f"'{text[:limit]}...'"


def _is_no_value(text: str, spellings: frozenset[str]) -> bool:
    # Plain ASCII needs no Unicode normalization; most values are plain ASCII.
    key = text.casefold() if text.isascii() else normalize_text(text)
    return key in spellings


def _raw_literal(value: ast.Value) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _converter(fact: ast.FactDecl, tz: dt.tzinfo) -> Coercer:
    kind = fact.kind
    if kind == "int":
        return to_int
    if kind in ("number", "money"):
        return to_money if kind == "money" else to_number
    if kind == "bool":
        return to_bool
    if kind == "date":
        return _date_converter(fact.date_format, tz)
    if kind == "datetime":
        return _datetime_converter(fact.date_format, tz)
    if kind == "list":
        return _list_converter(fact.split_on or ",", fact.exact)
    if kind == "enum":
        return _enum_converter(fact.enum_values)
    exact = fact.exact
    return lambda raw: text_key(str(raw), exact)


# ---- numbers ------------------------------------------------------------------


def to_number(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise BadValue(f"{raw!r} is a yes/no value, not a number")
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise BadValue(f"{raw!r} is not a finite number")
        return Decimal(repr(raw))
    text = str(raw)
    try:
        value = Decimal(text)
    except InvalidOperation:
        stripped = text.strip()
        if not _GROUPED.match(stripped):
            raise BadValue(f"'{raw}' is not a number") from None
        value = Decimal(stripped.replace(",", ""))
    if not value.is_finite():
        raise BadValue(f"'{raw}' is not a finite number")
    if value and not -MAGNITUDE <= value.adjusted() <= MAGNITUDE:
        raise BadValue(f"{_show(raw)} is out of range for a number")
    return value


def to_money(raw: Any) -> Decimal:
    if isinstance(raw, str):
        text = raw.strip()
        sign = ""
        if text[:1] in "+-":
            sign, text = text[0], text[1:].lstrip()
        if text[:1] and text[0] in _CURRENCY:
            text = text[1:].strip()
        try:
            return to_number(sign + text)
        except BadValue as exc:
            if "is not a number" not in str(exc):
                raise BadValue(
                    str(exc).replace(f"'{sign + text}'", f"'{raw}'")
                ) from None
            raise BadValue(f"'{raw}' is not an amount of money") from None
    return to_number(raw)


def to_int(raw: Any) -> int:
    if isinstance(raw, str) and len(raw) < 30:
        try:
            return int(raw)  # the common case; also trims spaces
        except ValueError:
            pass
    value = to_number(raw)
    if value != value.to_integral_value():
        raise BadValue(f"'{raw}' is not a whole number")
    return int(value)


# ---- yes/no -------------------------------------------------------------------


def to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    word = str(raw).strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise BadValue(f"'{raw}' is not yes/no (use true/false, yes/no, y/n or 1/0)")


# ---- dates --------------------------------------------------------------------


def _date_converter(fmt: str | None, tz: dt.tzinfo) -> Coercer:
    def convert(raw: Any) -> dt.date:
        if isinstance(raw, dt.datetime):
            return _aware(raw, tz).astimezone(tz).date()
        if isinstance(raw, dt.date):
            return raw
        text = str(raw).strip()
        try:
            if fmt:
                return dt.datetime.strptime(text, fmt).date()
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            return _aware(_parse_iso_datetime(text), tz).astimezone(tz).date()
        except (ValueError, OverflowError) as exc:
            want = f"a date in the format '{fmt}'" if fmt else "a date (YYYY-MM-DD)"
            raise _date_problem(raw, want, exc) from None

    return convert


def _date_problem(raw: Any, want: str, exc: Exception) -> BadValue:
    """Tell a date in the wrong shape from a date that does not exist."""
    reason = str(exc)
    if (
        isinstance(exc, OverflowError)
        or "out of range" in reason
        or "must be in" in reason
    ):
        return BadValue(f"{_show(raw)} is not a real date ({reason})")
    return BadValue(f"{_show(raw)} is not {want}")


def _datetime_converter(fmt: str | None, tz: dt.tzinfo) -> Coercer:
    def convert(raw: Any) -> dt.datetime:
        if isinstance(raw, dt.datetime):
            return _aware(raw, tz)
        if isinstance(raw, dt.date):
            return dt.datetime.combine(raw, dt.time(), tz)
        text = str(raw).strip()
        try:
            if fmt:
                return _aware(dt.datetime.strptime(text, fmt), tz)
            if len(text) == 10:
                return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tz)
            return _aware(_parse_iso_datetime(text), tz)
        except (ValueError, OverflowError) as exc:
            want = (
                f"a date and time in the format '{fmt}'"
                if fmt
                else ("a date and time (YYYY-MM-DDTHH:MM[:SS][+HH:MM])")
            )
            raise _date_problem(raw, want, exc) from None

    return convert


def _parse_iso_datetime(text: str) -> dt.datetime:
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return dt.datetime.fromisoformat(text)


def _aware(value: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """A naive date and time is read in the policy's time zone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def time_zone(name: str | None) -> dt.tzinfo:
    return zoneinfo.ZoneInfo(name) if name else dt.UTC


# ---- lists and enumerations ---------------------------------------------------


def _list_converter(separator: str, exact: bool) -> Coercer:
    keys: dict[str, str] = {}  # each item's text and its key, as in `make_coercer`

    def key(item: Any) -> str:
        if isinstance(item, _BYTES):  # never remembered, so always checked
            raise BadValue(_bytes_problem(item))
        found = text_key(str(item), exact)
        if type(item) is str and len(keys) < MEMO_SIZE:
            keys[item] = found
        return found

    def convert(raw: Any) -> frozenset[str] | None:
        items: Iterable[Any]
        if isinstance(raw, (list, tuple, set, frozenset)):
            items = raw
        else:
            items = str(raw).split(separator)
        try:
            found = frozenset([keys[i] if i in keys else key(i) for i in items])
        except TypeError:  # an item that cannot be remembered, such as an object
            found = frozenset([key(i) for i in items])
        if "" in found:
            found -= {""}
        return found or None

    return convert


def _enum_converter(values: tuple[str, ...]) -> Coercer:
    allowed = {normalize_text(v): normalize_text(v) for v in values}
    listing = ", ".join(f'"{v}"' for v in values)

    def convert(raw: Any) -> str:
        key = normalize_text(str(raw))
        if key not in allowed:
            raise BadValue(f"'{raw}' is not one of {listing}")
        return key

    return convert


def bind_facts(
    facts: Sequence[ast.FactDecl], header: Sequence[str]
) -> list[int | None]:
    """Which position of `header` each fact reads (None: no such column).

    A fact's column is matched exactly first, then ignoring case and
    surrounding spaces; a fact without `from` also matches its own name.
    """
    exact = {name: i for i, name in enumerate(header)}
    loose = {normalize_text(name): i for i, name in reversed(list(enumerate(header)))}
    positions: list[int | None] = []
    for fact in facts:
        wanted = ([fact.source] if fact.source else []) + [fact.name]
        found = next((exact[w] for w in wanted if w in exact), None)
        if found is None:
            keys = [normalize_text(w) for w in wanted]
            found = next((loose[k] for k in keys if k in loose), None)
        positions.append(found)
    return positions
