"""Reading facts in SQL: each column to its fact's typed value, or a problem.

`plan_fact` says how one fact is read from its column: by the typed readers
when the column's type already holds the fact's kind (numbers, dates,
booleans), else from its text with the policy's missing rules (NULL, blank,
`no value` spellings) and the same reading as the per-account engine
(`engine/coerce.py`). `coerce.bind_facts` picks each fact's column.

A fact read from text goes through up to four steps before the query's
`facts` step, each a CTE that adds columns named `<fact>__<what>` and keeps
the earlier ones, so that no expression is written twice: `raw` (the text,
stripped), `cleaned` (its key; a number's text without currency or
separators; a date's shape), `parsed` (the number; a date's year, month and
day) and `checked` (whether a date is real). Every regular expression is
anchored at both ends: a dialect may test it as a full match or as a search.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from tierwise.dsl import ast
from tierwise.dsl import types as ty
from tierwise.dsl.typecheck import normalize_text
from tierwise.dsl.types import FALSE_WORDS, TRUE_WORDS
from tierwise.engine.coerce import make_coercer
from tierwise.engine.sql_dialects import CE, Dialect, ws_class

PLAIN_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
GROUPED_NUMBER = r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$"
NOT_FINITE = r"^[+-]?([iI][nN][fF]([iI][nN][iI][tT][yY])?|[sS]?[nN][aA][nN][0-9]*)$"
HUGE_EXPONENT = r"^.*[eE][+-]?[0-9]{5,}$"
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
ISO_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
ISO_OFFSET = r"(Z|z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)"
ISO_DATETIME = rf"^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[Tt ]{ISO_TIME}{ISO_OFFSET}?$"
ENDS_IN_OFFSET = r"^.*(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"
MONTHS = (
    "january february march april may june july august september october "
    "november december"
).split()
# What Python's strptime accepts for each code (see the `_strptime` module).
STRPTIME = {
    "Y": "([0-9]{4})",
    "y": "([0-9]{2})",
    "m": "(1[0-2]|0[1-9]|[1-9])",
    "d": "(3[01]|[12][0-9]|0[1-9]|[1-9]| [1-9])",
    "H": "(2[0-3]|[01][0-9]|[0-9])",
    "M": "([0-5][0-9]|[0-9])",
    "S": "([0-5][0-9]|[0-9])",
    "b": "(" + "|".join(sorted({m[:3] for m in MONTHS}, key=lambda m: -len(m))) + ")",
    "B": "(" + "|".join(sorted(MONTHS, key=lambda m: -len(m))) + ")",
}
STEPS = ("raw", "cleaned", "parsed", "checked")

Cols = Callable[[str], CE]  # a fact's column in the previous step, by what it holds
Column = Callable[[Cols], CE]
Final = Callable[[Cols], tuple[CE, CE | None]]


@dataclass
class FactPlan:
    """How the reading steps read one fact: new columns per step, then the
    fact's value (NULL when missing or unreadable) and its problem."""

    steps: list[dict[str, Column]]
    final: Final


def _plan(final: Final, *steps: dict[str, Column]) -> FactPlan:
    padded = [*steps, *({} for _ in range(len(STEPS) - len(steps)))]
    return FactPlan(padded, final)


def plan_fact(
    fact: ast.FactDecl,
    column: sa.Column[Any] | None,
    d: Dialect,
    tz: dt.tzinfo,
    tz_name: str,
) -> FactPlan:
    """The reading of `fact` from `column` (None: the table has no such column)."""
    default = _default(fact, d, tz)

    def defaulted(read: Final) -> Final:
        if default is None:
            return read
        return lambda c: (sa.func.coalesce(read(c)[0], default), read(c)[1])

    if column is None:
        unknown = d.null(ty.SIMPLE.get(fact.kind, ty.TEXT).family)
        return _plan(lambda c: (default if default is not None else unknown, None))
    if d.python_reader:
        spec = _spec(fact, column.name, tz_name)
        read: Final = lambda c: d.read_fact(c("raw"), spec)  # type: ignore[attr-defined]  # noqa: E731
        return _plan(defaulted(read), {"raw": lambda c: column})
    typed = _typed_reader(fact, column_kind(column.type), d, tz_name, column.name)
    if typed is not None:
        return _plan(defaulted(lambda c: typed(c("raw"))), {"raw": lambda c: column})
    plan = _text_plan(fact, column, d, tz_name)
    return FactPlan(plan.steps, defaulted(plan.final))


def _default(fact: ast.FactDecl, dialect: Dialect, tz: dt.tzinfo) -> CE | None:
    if fact.default is None:
        return None
    typed = make_coercer(fact, tz)(None)
    if fact.kind == "list":
        return dialect.list_default(fact, typed)
    return dialect.literal(typed)


def _spec(fact: ast.FactDecl, column: str, tz_name: str) -> dict[str, Any]:
    return {
        "name": fact.name,
        "kind": fact.kind,
        "enum": list(fact.enum_values),
        "no_value": list(fact.no_value),
        "split": fact.split_on,
        "format": fact.date_format,
        "exact": fact.exact,
        "tz": tz_name,
        "column": column,
    }


def column_kind(type_: Any) -> str:
    """What a column holds, as far as reading facts is concerned."""
    kinds: list[tuple[type[Any], str]] = [
        (sa.Boolean, "bool"),
        (sa.Integer, "integer"),
        (sa.Float, "float"),
        (sa.Numeric, "numeric"),
        (sa.DateTime, "timestamp"),
        (sa.Date, "date"),
        (sa.String, "text"),
    ]
    for cls, kind in kinds:
        if isinstance(type_, cls):
            if kind == "timestamp" and getattr(type_, "timezone", False):
                return "timestamptz"
            return kind
    return "other"


# ---- text to typed values -------------------------------------------------------


def _lit(text: str) -> CE:
    return sa.literal(text, sa.Text())


def _quoted(raw: CE) -> CE:
    return _lit("'") + raw + _lit("'")


def _shown(raw: CE) -> CE:
    """Python's `_show`: the raw value quoted, cut after 60 characters."""
    cut = _lit("'") + sa.func.substr(raw, 1, 60) + _lit("...'")
    return sa.case((sa.func.length(raw) <= 60, _quoted(raw)), else_=cut)


def _text_plan(
    fact: ast.FactDecl, column: sa.Column[Any], d: Dialect, tz_name: str
) -> FactPlan:
    raw: CE = (
        column if column_kind(column.type) == "text" else sa.cast(column, sa.Text())
    )
    first: dict[str, Column] = {"raw": lambda c: raw, "text": lambda c: d.strip(raw)}
    spellings = [normalize_text(v) for v in fact.no_value]
    keys: dict[str, Column] = {}
    if spellings or fact.kind in ("bool", "enum") or fact.kind == "text":
        keys["key"] = lambda c: d.text_key(c("text"), False, stripped=True)
    if fact.kind == "text" and fact.exact:
        keys["exact"] = lambda c: d.text_key(c("text"), True, stripped=True)
    prefix = _lit(f"{column.name}: ")

    def present(c: Cols) -> CE:
        tests = [c("raw").is_not(None), c("text") != ""]
        if spellings:
            tests.append(c("key").not_in(spellings))
        return sa.and_(*tests)

    steps, parse = _parser(fact, d, tz_name)
    steps = [{**keys, **steps[0]}, *steps[1:]] if steps else [keys]

    def final(c: Cols) -> tuple[CE, CE | None]:
        ok, value, problems = parse(c)
        here = present(c)
        read = sa.case((sa.and_(here, ok), value), else_=sa.null())
        if not problems:
            return read, None
        whens = [(sa.and_(here, test), prefix + why) for test, why in problems]
        return read, sa.case(*whens, else_=sa.null())

    return _plan(final, first, *steps)


Parse = Callable[[Cols], tuple[CE, CE, list[tuple[CE, CE]]]]  # ok, value, problems


def _parser(
    fact: ast.FactDecl, d: Dialect, tz_name: str
) -> tuple[list[dict[str, Column]], Parse]:
    """Steps after `raw`, and how the last step reads the value and its problems."""
    kind = fact.kind
    if kind in ("int", "number", "money"):
        return _number_parser(kind, d)
    if kind in ("date", "datetime") and fact.date_format:
        return _format_parser(fact.kind, fact.date_format, d, tz_name)
    if kind in ("date", "datetime"):
        return _iso_parser(fact.kind, d, tz_name)
    if kind == "list":
        split = fact.split_on or ","
        if d.keyed_lists:
            keys = {"keys": lambda c: d.list_keys(c("raw"), split, fact.exact)}
            return [keys], lambda c: (d.keys_nonempty(c("keys")), c("raw"), [])
        has = {"items": lambda c: d.list_nonempty(c("raw"), split)}
        return [has], lambda c: (c("items"), c("raw"), [])
    if kind in ("bool", "enum"):
        return [], lambda c: _choice(fact, c)
    return [], lambda c: (sa.true(), c("exact" if fact.exact else "key"), [])


def _choice(fact: ast.FactDecl, c: Cols) -> tuple[CE, CE, list[tuple[CE, CE]]]:
    key = c("key")
    if fact.kind == "bool":
        known = key.in_(sorted(TRUE_WORDS | FALSE_WORDS))
        why = " is not yes/no (use true/false, yes/no, y/n or 1/0)"
        return (
            known,
            key.in_(sorted(TRUE_WORDS)),
            [(~known, _quoted(c("raw")) + _lit(why))],
        )
    known = key.in_([normalize_text(v) for v in fact.enum_values])
    listing = ", ".join(f'"{v}"' for v in fact.enum_values)
    return known, key, [(~known, _quoted(c("raw")) + _lit(f" is not one of {listing}"))]


def _number_parser(kind: str, d: Dialect) -> tuple[list[dict[str, Column]], Parse]:
    def cleaned(c: Cols) -> CE:
        if kind != "money":
            return c("text")
        ws = ws_class()  # a sign, then a currency sign, as `coerce.to_money` reads
        return d.regex_replace(c("text"), rf"^([+-]?){ws}*([$€£¥]{ws}*)?", r"\1")

    def number_text(c: Cols) -> CE:
        text = c("cleaned")
        plain = sa.func.replace(text, _lit("_"), _lit(""))
        return sa.case(
            (d.matches(plain, PLAIN_NUMBER), plain),
            (
                d.matches(text, GROUPED_NUMBER),
                sa.func.replace(text, _lit(","), _lit("")),
            ),
            else_=sa.null(),
        )

    def number(c: Cols) -> CE:
        text = c("number_text")
        castable = sa.and_(text.is_not(None), ~d.matches(text, HUGE_EXPONENT))
        return sa.case((castable, d.number_from_text(text)), else_=sa.null())

    def parse(c: Cols) -> tuple[CE, CE, list[tuple[CE, CE]]]:
        value, raw = c("number"), c("raw")
        infinite = d.matches(c("cleaned"), NOT_FINITE)
        fits = sa.and_(value.is_not(None), _in_range(value, c("number_text"), d))
        what = "an amount of money" if kind == "money" else "a number"
        problems = [
            (infinite, _quoted(raw) + _lit(" is not a finite number")),
            (c("number_text").is_(None), _quoted(raw) + _lit(f" is not {what}")),
            (~fits, _shown(raw) + _lit(_out_of_range(d))),
        ]
        if kind != "int":
            return sa.and_(~infinite, fits), value, problems
        whole = d.integral(value)
        problems.append((~whole, _quoted(raw) + _lit(" is not a whole number")))
        return sa.and_(~infinite, fits, whole), value, problems

    steps: list[dict[str, Column]] = [
        {"cleaned": cleaned},
        {"number_text": number_text},
        {"number": number},
    ]
    return steps, parse


def _in_range(number: CE, text: CE, d: Dialect) -> CE:
    """Python's limit (10^-40 to 10^41), or the dialect's decimal places."""
    if d.number_scale is not None:
        return _places(text, d) <= d.number_scale
    size = sa.func.abs(number)
    small, large = d.number(Decimal("1e-40")), d.number(Decimal("1e41"))
    return sa.or_(number == d.number(0), sa.and_(size >= small, size < large))


def _places(text: CE, d: Dialect) -> CE:
    """The decimal places a number written as `text` needs, whether plain
    (0.00000000001) or with an exponent (1e-11, 2.50E-12), so that a value a
    cast would round is rejected instead. Zero needs none. `text` is a
    `PLAIN_NUMBER` without a `HUGE_EXPONENT` (otherwise the number is NULL)."""
    mantissa = d.group(text, r"^[+-]?([0-9]*\.?[0-9]*)", 1)
    fraction = d.group(mantissa, r"\.([0-9]*)$", 1)
    digits = sa.func.replace(mantissa, _lit("."), _lit(""))
    significant = sa.func.rtrim(digits, _lit("0"))
    zeros = sa.func.length(digits) - sa.func.length(significant)
    exponent = sa.func.coalesce(
        sa.cast(
            sa.func.nullif(d.group(text, r"[eE]([+-]?[0-9]+)$", 1), ""), sa.Integer
        ),
        0,
    )
    places = sa.func.length(fraction) - zeros - exponent
    return sa.case((significant == _lit(""), 0), else_=places)


def _out_of_range(d: Dialect) -> str:
    if d.number_scale is None:
        return " is out of range for a number"
    return (
        f" is out of range for a number in {d.name} (at most "
        f"{38 - d.number_scale} digits before the decimal point and "
        f"{d.number_scale} after)"
    )


def _iso_parser(
    kind: str, d: Dialect, tz_name: str
) -> tuple[list[dict[str, Column]], Parse]:
    """ISO dates: shape 1 a date, 2 a local date and time, 3 one with an offset."""

    def shape(c: Cols) -> CE:
        text = c("text")
        offset = sa.case((d.matches(text, ENDS_IN_OFFSET), 3), else_=2)
        return sa.case(
            (d.matches(text, ISO_DATE), 1),
            (d.matches(text, ISO_DATETIME), offset),
            else_=0,
        )

    def part(start: int, length: int) -> Column:
        def column(c: Cols) -> CE:
            digits = sa.cast(sa.func.substr(c("text"), start, length), sa.Integer())
            return sa.case((c("shape") > 0, digits), else_=sa.null())

        return column

    ymd = {"year": part(1, 4), "month": part(6, 2), "day": part(9, 2)}

    def parse(c: Cols) -> tuple[CE, CE, list[tuple[CE, CE]]]:
        text, shaped = c("text"), c("shape")
        canon = (
            sa.func.substr(text, 1, 10)
            + _lit(" ")
            + sa.func.upper(sa.func.substr(text, 12))
        )
        if kind == "date":
            want = " is not a date (YYYY-MM-DD)"
            value = sa.case(
                (shaped == 1, d.date_from_iso(text)),
                (shaped == 3, d.local_date(d.instant_from_iso(canon), tz_name)),
                else_=d.date_from_iso(sa.func.substr(text, 1, 10)),
            )
        else:
            want = " is not a date and time (YYYY-MM-DDTHH:MM[:SS][+HH:MM])"
            value = sa.case(
                (shaped == 1, d.local_midnight(d.date_from_iso(text), tz_name)),
                (shaped == 3, d.instant_from_iso(canon)),
                else_=d.local_instant(d.naive_from_iso(canon), tz_name),
            )
        return _dated(c, value, want)

    return [{"shape": shape}, ymd, {"real": _real}], parse


def _dated(c: Cols, value: CE, want: str) -> tuple[CE, CE, list[tuple[CE, CE]]]:
    raw = c("raw")
    problems = [
        (c("shape") == 0, _shown(raw) + _lit(want)),
        (~c("real"), _not_real(raw, c("year"), c("month"))),
    ]
    return c("real"), value, problems


def _real(c: Cols) -> CE:
    year, month, day = c("year"), c("month"), c("day")
    leap = sa.or_(sa.and_(year % 4 == 0, year % 100 != 0), year % 400 == 0)
    days = sa.case(
        (month == 2, sa.case((leap, 29), else_=28)),
        (month.in_([4, 6, 9, 11]), 30),
        else_=31,
    )
    valid = sa.and_(year >= 1, month >= 1, month <= 12, day >= 1, day <= days)
    return sa.case((c("shape") > 0, valid), else_=sa.false())


def _not_real(raw: CE, year: CE, month: CE) -> CE:
    reason = sa.case(
        (year < 1, _lit("year 0 is out of range")),
        (sa.or_(month < 1, month > 12), _lit("month must be in 1..12")),
        else_=_lit("day is out of range for month"),
    )
    return _shown(raw) + _lit(" is not a real date (") + reason + _lit(")")


def strptime_pattern(fmt: str, dialect: Dialect) -> tuple[str, dict[str, int]]:
    """An anchored, lower-case regular expression for `fmt`, and its groups."""
    pattern, index = "^", 0
    groups: dict[str, int] = {}
    for chunk in re.findall(r"%.|\s+|.", fmt, flags=re.DOTALL):
        if chunk.startswith("%") and len(chunk) == 2 and chunk != "%%":
            if chunk[1] not in STRPTIME:
                supported = " ".join(f"%{code}" for code in STRPTIME)
                raise dialect.unsupported(
                    f"the date format code '{chunk}' (SQL reads {supported})"
                )
            index += 1
            groups.setdefault(chunk[1], index)
            pattern += STRPTIME[chunk[1]]
        elif chunk.isspace():
            pattern += ws_class() + "+"
        else:
            pattern += re.escape(chunk[-1].lower())
    return pattern + "$", groups


def _format_parser(
    kind: str, fmt: str, d: Dialect, tz_name: str
) -> tuple[list[dict[str, Column]], Parse]:
    pattern, groups = strptime_pattern(fmt, d)

    def shape(c: Cols) -> CE:
        return sa.case((d.matches(sa.func.lower(c("text")), pattern), 1), else_=0)

    def code(letters: str, fallback: int) -> Column:
        def column(c: Cols) -> CE:
            letter = next((x for x in letters if x in groups), None)
            if letter is None:
                return sa.literal(fallback)
            found = d.group(sa.func.lower(c("text")), pattern, groups[letter])
            number: CE
            if letter in "bB":
                names = MONTHS if letter == "B" else [m[:3] for m in MONTHS]
                number = sa.case({n: i for i, n in enumerate(names, 1)}, value=found)
            else:
                number = sa.cast(sa.func.trim(found), sa.Integer())
            if letter == "y":  # two digits: 69-99 are 1900s, 00-68 2000s
                number = number + sa.case((number <= 68, 2000), else_=1900)
            return sa.case((c("shape") == 1, number), else_=sa.null())

        return column

    parts = {
        "year": code("Yy", 1900),
        "month": code("mbB", 1),
        "day": code("d", 1),
        **(
            {"hour": code("H", 0), "minute": code("M", 0), "second": code("S", 0)}
            if kind == "datetime"
            else {}
        ),
    }

    def parse(c: Cols) -> tuple[CE, CE, list[tuple[CE, CE]]]:
        ymd = [c("year"), c("month"), c("day")]
        if kind == "date":
            value = d.make_date(*ymd)
            return _dated(c, value, f" is not a date in the format '{fmt}'")
        naive = d.make_naive([*ymd, c("hour"), c("minute"), c("second")])
        want = f" is not a date and time in the format '{fmt}'"
        return _dated(c, d.local_instant(naive, tz_name), want)

    return [{"shape": shape}, parts, {"real": _real}], parse


# ---- typed columns ------------------------------------------------------------------


def _typed_reader(
    fact: ast.FactDecl, kind: str, d: Dialect, tz_name: str, name: str
) -> Callable[[CE], tuple[CE, CE | None]] | None:
    """How a typed column reads as the fact; None when it is read as text."""
    family = ty.SIMPLE.get(fact.kind, ty.TEXT).family
    prefix = _lit(f"{name}: ")
    if family == "numeric" and kind in ("integer", "numeric", "float"):
        # An integer column holds whole numbers, which fit a dialect whose
        # numbers have any size: nothing to check then.
        whole = fact.kind == "int" and kind != "integer"
        fits = kind == "integer" and d.number_scale is None
        floating = kind == "float" or (kind == "numeric" and d.nan_numeric)
        return lambda raw: _typed_number(whole, fits, floating, raw, d, prefix)
    if family == "numeric" and kind == "bool":
        return lambda raw: (d.null("numeric"), _typed_yes_no_number(raw, prefix))
    if fact.kind == "bool" and kind == "bool":
        return lambda raw: (raw, None)
    if fact.kind == "bool" and kind == "integer":
        return lambda raw: _typed_bool(raw, prefix)
    if fact.kind == "date" and kind in ("date", "timestamp", "timestamptz"):
        return lambda raw: _finite(_typed_date(raw, kind, d, tz_name), raw, d, prefix)
    if fact.kind == "datetime" and kind in ("date", "timestamp", "timestamptz"):
        read = _typed_instant
        return lambda raw: _finite(read(raw, kind, d, tz_name), raw, d, prefix)
    return None


def _finite(value: CE, raw: CE, d: Dialect, prefix: CE) -> tuple[CE, CE | None]:
    """A date or time read from `raw`, rejected when `raw` is `infinity`."""
    finite = d.finite_date(raw)
    problem = prefix + _quoted(sa.cast(raw, sa.Text())) + _lit(" is not a date")
    known = sa.and_(raw.is_not(None), ~finite)
    return sa.case((known, sa.null()), else_=value), sa.case(
        (known, problem), else_=sa.null()
    )


def _typed_number(
    whole: bool, fits: bool, floating: bool, raw: CE, d: Dialect, prefix: CE
) -> tuple[CE, CE | None]:
    number = d.number_from_column(raw)
    if fits and not whole:
        return number, None
    shown = _quoted(sa.cast(raw, sa.Text()))
    whens = []
    if floating:  # NaN and the infinities, the values that times zero are not zero
        infinite = sa.and_(raw.is_not(None), sa.not_(raw * 0 == 0))
        whens.append((infinite, prefix + shown + _lit(" is not a finite number")))
        number = sa.case((infinite, sa.null()), else_=number)
    too_big = sa.and_(raw.is_not(None), number.is_(None))
    whens.append((too_big, prefix + shown + _lit(_out_of_range(d))))
    if whole:
        integral = d.integral(number)
        whens.append((~integral, prefix + shown + _lit(" is not a whole number")))
        number = sa.case((integral, number), else_=sa.null())
    return number, sa.case(*whens, else_=sa.null())


def _typed_yes_no_number(raw: CE, prefix: CE) -> CE:
    shown = sa.case((raw, _lit("True")), else_=_lit("False"))
    problem = prefix + shown + _lit(" is a yes/no value, not a number")
    return sa.case((raw.is_not(None), problem), else_=sa.null())


def _typed_bool(raw: CE, prefix: CE) -> tuple[CE, CE | None]:
    value = sa.case((raw == 1, sa.true()), (raw == 0, sa.false()), else_=sa.null())
    why = " is not yes/no (use true/false, yes/no, y/n or 1/0)"
    message = prefix + _quoted(sa.cast(raw, sa.Text())) + _lit(why)
    bad = sa.and_(raw.is_not(None), raw.not_in([0, 1]))
    return value, sa.case((bad, message), else_=sa.null())


def _typed_date(raw: CE, kind: str, d: Dialect, tz_name: str) -> CE:
    if kind == "timestamptz":
        return d.local_date(raw, tz_name)
    return raw if kind == "date" else sa.cast(raw, sa.Date())


def _typed_instant(raw: CE, kind: str, d: Dialect, tz_name: str) -> CE:
    if kind == "date":
        return d.local_midnight(raw, tz_name)
    return raw if kind == "timestamptz" else d.local_instant(raw, tz_name)
