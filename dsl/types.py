"""The types a policy's expressions can have.

Facts declare one of `int`, `number`, `money`, `text`, `bool`, `date`,
`datetime`, `list of text` or an enumeration (`one of ...`). `int`, `number`
and `money` share the numeric family: they compare and combine freely, and
their values are exact decimals. An enumeration behaves as text restricted to
its declared values.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Type:
    name: str  # what people see: "int", "money", "list of text", ...
    family: str  # what decides compatibility: numeric, text, bool, date, ...
    values: tuple[str, ...] = ()  # an enumeration's declared values

    def __str__(self) -> str:
        return self.name


INT = Type("int", "numeric")
NUMBER = Type("number", "numeric")
MONEY = Type("money", "numeric")
TEXT = Type("text", "text")
BOOL = Type("bool", "bool")
DATE = Type("date", "date")
DATETIME = Type("datetime", "datetime")
LIST = Type("list of text", "list")
TIER = Type("tier", "tier")
ERROR = Type("?", "error")  # an expression already reported as wrong

SIMPLE = {
    "int": INT,
    "number": NUMBER,
    "money": MONEY,
    "text": TEXT,
    "bool": BOOL,
    "date": DATE,
    "datetime": DATETIME,
    "list": LIST,
}


# How a yes/no value may be written, in any case.
TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})


def enum(values: tuple[str, ...]) -> Type:
    return Type("one of " + ", ".join(f'"{v}"' for v in values), "text", values)


def is_numeric(t: Type) -> bool:
    return t.family == "numeric"


def is_textual(t: Type) -> bool:
    return t.family == "text"


def is_temporal(t: Type) -> bool:
    return t.family in ("date", "datetime")


def comparable(a: Type, b: Type) -> bool:
    """Whether `a = b` makes sense (dates and datetimes compare with each other)."""
    if ERROR in (a, b):
        return True
    if is_temporal(a) and is_temporal(b):
        return True
    return a.family == b.family


def orderable(t: Type) -> bool:
    return t.family in ("numeric", "date", "datetime", "error")


def describe_family(family: str) -> str:
    return {"numeric": "number", "list": "list of text"}.get(family, family)
