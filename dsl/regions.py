"""Which values of a single fact make a condition true.

A condition that tests one fact against literals (`employees >= 50`,
`employees between 200 and 999`, `industry in "a", "b"`, and `and`/`or`/`not`
of those) has a *region*: the set of known values of that fact for which it
is true. Regions let the checker prove that a branch can never fire because
earlier branches already cover every value it accepts. Conditions that read
several facts, or compute, have no region; the checker stays silent on them
rather than guess.

Missing values need no special care here: a single-fact condition is unknown
exactly when the fact is missing, for the earlier branches and the later one
alike.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tierwise.dsl import ast
from tierwise.dsl.typecheck import text_key

# An interval (low, low_closed, high, high_closed); None means unbounded.
Interval = tuple[Any, bool, Any, bool]


@dataclass(frozen=True)
class Intervals:
    """A union of disjoint, sorted intervals over an ordered domain."""

    parts: tuple[Interval, ...]
    integer: bool = False

    @staticmethod
    def of(
        low: Any, low_closed: bool, high: Any, high_closed: bool, integer: bool
    ) -> Intervals:
        return Intervals((), integer).union(
            Intervals(
                (_tighten((low, low_closed, high, high_closed), integer),), integer
            )
        )

    def union(self, other: Intervals) -> Intervals:
        parts = sorted(
            (p for p in self.parts + other.parts if not _empty(p)), key=_low_key
        )
        merged: list[Interval] = []
        for part in parts:
            if merged and _touches(merged[-1], part, self.integer):
                merged[-1] = _join(merged[-1], part)
            else:
                merged.append(part)
        return Intervals(tuple(merged), self.integer)

    def complement(self) -> Intervals:
        gaps: list[Interval] = []
        low: Any = None  # where the next gap starts; None is minus infinity
        low_closed = True
        for part_low, part_low_closed, part_high, part_high_closed in self.parts:
            if part_low is not None:
                gaps.append((low, low_closed, part_low, not part_low_closed))
            if part_high is None:
                break
            low, low_closed = part_high, not part_high_closed
        else:
            gaps.append((low, low_closed, None, True))
        tight = tuple(_tighten(gap, self.integer) for gap in gaps)
        return Intervals((), self.integer).union(Intervals(tight, self.integer))

    def intersect(self, other: Intervals) -> Intervals:
        return self.complement().union(other.complement()).complement()

    def covers(self, other: Intervals) -> bool:
        return other.intersect(self.complement()).is_empty()

    def is_empty(self) -> bool:
        return not self.parts


@dataclass(frozen=True)
class Values:
    """A finite set of values (`inside`), or everything but a finite set."""

    items: frozenset[Any]
    inside: bool = True

    def union(self, other: Values) -> Values:
        a, b = self, other
        if a.inside and b.inside:
            return Values(a.items | b.items)
        if not a.inside and not b.inside:
            return Values(a.items & b.items, False)
        inside, outside = (a, b) if a.inside else (b, a)
        return Values(outside.items - inside.items, False)

    def complement(self) -> Values:
        return Values(self.items, not self.inside)

    def intersect(self, other: Values) -> Values:
        return self.complement().union(other.complement()).complement()

    def covers(self, other: Values) -> bool:
        return other.intersect(self.complement()).is_empty()

    def is_empty(self) -> bool:
        return self.inside and not self.items


Region = Intervals | Values


@dataclass
class Regions:
    """Finds regions, knowing the policy's facts, constants and sets."""

    facts: dict[str, ast.FactDecl]
    constants: dict[str, Any]
    sets: dict[str, ast.SetDecl]

    @staticmethod
    def of_scope(scope: Any) -> Regions:
        constants = {name: c.value.value for name, c in scope.constants.items()}
        return Regions(scope.facts, constants, scope.sets)

    def of(self, expr: ast.Expr) -> tuple[str, Region] | None:
        """The fact `expr` tests and its region, or None when it has none."""
        match expr:
            case ast.Compare(op=op, left=ast.DaysBetween() as days, right=right):
                return self._days(days, op, right)
            case ast.Compare(op=op, left=ast.Name() as left, right=right):
                return self._compare(left.name, op, right)
            case ast.Compare(op=op, left=left, right=ast.Name() as right):
                flipped = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
                return self._compare(right.name, flipped, left)
            case ast.Between(operand=ast.Name(name=name), low=low, high=high):
                lo, hi = self._value(name, low), self._value(name, high)
                if lo is None or hi is None:
                    return None
                return name, Intervals.of(lo, True, hi, True, self._integer(name))
            case ast.In(operand=ast.Name(name=name), collection=collection):
                items = self._items(collection)
                values = [self._value(name, item) for item in items]
                if None in values or self._kind(name) not in ("text", "enum", "bool"):
                    return None
                return name, Values(frozenset(values), not expr.negated)
            case ast.Not(operand=operand):
                inner = self.of(operand)
                return (inner[0], inner[1].complement()) if inner else None
            case ast.And(operands=ops) | ast.Or(operands=ops):
                return self._combine(ops, isinstance(expr, ast.And))
            case ast.Name(name=name) if self._kind(name) == "bool":
                return name, Values(frozenset([True]))
            case ast.Within(operand=ast.Name(name=name)) if self._kind(name) == "date":
                return self._within(name, expr)
        return None

    def _within(self, name: str, within: ast.Within) -> tuple[str, Region] | None:
        """`d within 30 days` is `0 <= days since d <= 30`, for a date `d`.

        Months and years are left alone: how many days they hold depends on
        the as-of.
        """
        per_unit = {"days": 1, "weeks": 7}.get(within.unit)
        if per_unit is None:
            return None
        reach = Decimal(within.amount * per_unit)
        low, high = (
            (Decimal(0), reach) if within.direction == "past" else (-reach, Decimal(0))
        )
        return f"days since {name}", Intervals.of(low, True, high, True, True)

    def _days(
        self, days: ast.DaysBetween, op: str, other: ast.Expr
    ) -> tuple[str, Region] | None:
        """`days since d < 90` as a region of the days since `d`."""
        operand = days.operand
        if days.unit != "days" or not isinstance(operand, ast.Name):
            return None
        if self._kind(operand.name) != "date":
            return None
        value = other.value if isinstance(other, ast.Literal) else None
        if isinstance(other, ast.Name):
            value = self.constants.get(other.name)
        if not isinstance(value, Decimal):
            return None
        if days.direction == "until":  # days until d = -(days since d)
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
            value = -value
        return f"days since {operand.name}", _numeric(op, value, integer=True)

    def _combine(
        self, ops: tuple[ast.Expr, ...], conjunction: bool
    ) -> tuple[str, Region] | None:
        parts = [self.of(op) for op in ops]
        if any(p is None for p in parts):
            return None
        names = {p[0] for p in parts if p}
        if len(names) != 1:
            return None
        regions = [p[1] for p in parts if p]
        if len({type(r) for r in regions}) != 1:
            return None
        result = regions[0]
        for region in regions[1:]:
            result = result.intersect(region) if conjunction else result.union(region)  # type: ignore[arg-type]
        return names.pop(), result

    def _items(self, collection: ast.Collection) -> tuple[ast.Expr, ...]:
        if isinstance(collection, ast.LiteralSet):
            return collection.items
        declared = self.sets.get(collection.name)
        # An unknown set has no region; a Name that is not a constant yields none.
        return declared.items if declared else (ast.Name(collection.name, ast.NO_SPAN),)

    def _compare(
        self, name: str, op: str, other: ast.Expr
    ) -> tuple[str, Region] | None:
        value = self._value(name, other)
        if value is None:
            return None
        if self._kind(name) in ("text", "enum", "bool"):
            if op not in ("=", "!="):
                return None
            return name, Values(frozenset([value]), op == "=")
        return name, _numeric(op, value, self._integer(name))

    def _value(self, name: str, expr: ast.Expr) -> Any:
        """The literal value `expr` stands for, in the fact's terms, or None."""
        if isinstance(expr, ast.Name) and expr.name in self.constants:
            value = self.constants[expr.name]
        elif isinstance(expr, ast.Literal):
            value = expr.value
        else:
            return None
        kind = self._kind(name)
        if kind in ("text", "enum"):
            exact = self.facts[name].exact
            return text_key(value, exact) if isinstance(value, str) else None
        if kind in ("int", "number", "money"):
            return value if isinstance(value, Decimal) else None
        if kind == "bool":
            return value if isinstance(value, bool) else None
        if kind == "date":
            is_date = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
            return value if is_date else None
        return None

    def _kind(self, name: str) -> str | None:
        fact = self.facts.get(name)
        return fact.kind if fact else None

    def _integer(self, name: str) -> bool:
        return self._kind(name) == "int"


def _numeric(op: str, value: Any, integer: bool) -> Intervals:
    """The values `x` with `x op value`."""
    point = Intervals.of(value, True, value, True, integer)
    regions = {
        "=": point,
        "!=": point.complement(),
        "<": Intervals.of(None, True, value, False, integer),
        "<=": Intervals.of(None, True, value, True, integer),
        ">": Intervals.of(value, False, None, True, integer),
        ">=": Intervals.of(value, True, None, True, integer),
    }
    return regions[op]


# ---- interval helpers ---------------------------------------------------------


def _tighten(part: Interval, integer: bool) -> Interval:
    """For whole numbers, `> 49` is `>= 50` and `< 50.5` is `<= 50`."""
    low, low_closed, high, high_closed = part
    if not integer:
        return part
    if low is not None:
        low = Decimal(math.ceil(low) if low_closed else math.floor(low) + 1)
    if high is not None:
        high = Decimal(math.floor(high) if high_closed else math.ceil(high) - 1)
    return low, True, high, True


def _empty(part: Interval) -> bool:
    low, low_closed, high, high_closed = part
    if low is None or high is None:
        return False
    return low > high or (low == high and not (low_closed and high_closed))


def _low_key(part: Interval) -> tuple[int, Any, int]:
    low, low_closed, _, _ = part
    return (0, 0, 0) if low is None else (1, low, 0 if low_closed else 1)


def _touches(a: Interval, b: Interval, integer: bool) -> bool:
    """Whether `b` (starting at or after `a`) overlaps or adjoins `a`."""
    _, _, high, high_closed = a
    low, low_closed, _, _ = b
    if high is None or low is None:
        return True
    if integer and high_closed and low_closed:
        return bool(low <= high + 1)
    return bool(low < high or (low == high and (high_closed or low_closed)))


def _join(a: Interval, b: Interval) -> Interval:
    high, high_closed = a[2], a[3]
    if high is not None and (b[2] is None or b[2] > high or (b[2] == high and b[3])):
        high, high_closed = b[2], b[3]
    return a[0], a[1], high, high_closed


def shadowed_by(
    condition: ast.Expr, earlier: list[tuple[ast.Expr, int]], regions: Regions
) -> str | None:
    """Why `condition` can never be the first to hold after `earlier`, if it can't.

    `earlier` lists the conditions tried before it, with their lines.
    """
    for other, line in earlier:
        if other == condition:
            return f"line {line} has the same condition"
        if isinstance(other, ast.Literal) and other.value is True:
            return f"line {line} is always true"
    mine = regions.of(condition)
    if mine is None:
        return None
    fact, region = mine
    if region.is_empty():
        return None  # never true at all: lint says so (TW202)
    covering: list[tuple[int, Region]] = []
    for other, line in earlier:
        found = regions.of(other)
        if found is not None and found[0] == fact and type(found[1]) is type(region):
            covering.append((line, found[1]))
    if not covering or not union_of([r for _, r in covering]).covers(region):  # type: ignore[arg-type]
        return None
    takers = [line for line, r in covering if not r.intersect(region).is_empty()]  # type: ignore[arg-type]
    plural = "s" if len(takers) > 1 else ""
    lines = ", ".join(str(line) for line in takers)
    return f"every value of '{fact}' it accepts is taken by line{plural} {lines}"


def union_of(regions: list[Region]) -> Region:
    result = regions[0]
    for region in regions[1:]:
        result = result.union(region)  # type: ignore[arg-type]
    return result
