"""A checked policy to polars expressions: the columnar twin of `compile.py`.

Every condition becomes one Boolean expression over the typed fact columns
that `columnar_coerce.py` makes. Unknown is null, and polars' `&`, `|` and `~`
follow Kleene's three-valued logic on nulls, as the generated Python does;
`when` takes a branch only when its condition is true. Numbers are Int128
columns of value x 10**scale with the scale fixed at compile time, so every
comparison is exact; `Num.digits` bounds each value so that no column can
overflow.

What is not compiled exactly is never guessed: arithmetic whose result could
need more than 28 significant digits (the precision of Python's decimals)
marks the row for the per-account evaluator, and so does a division (its
rounding is Python's) unless it is compared with a number: the comparison is
then multiplied out, and only a quotient close enough to that number for the
rounding to matter is left to Python. A construct this module does not compile at all
(comparing two lists, products too large to bound) raises `Unsupported`, and
the whole policy is then graded by the per-account evaluator.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

import polars as pl

from tierwise.dsl import ast
from tierwise.dsl import types as ty
from tierwise.dsl.check import CheckedPolicy
from tierwise.dsl.typecheck import text_key
from tierwise.engine import runtime
from tierwise.engine.columnar_coerce import DIGITS, list_has, micros, scale_of
from tierwise.engine.compile import contributions, override_slots
from tierwise.engine.policy import AsOf

MAX_DIGITS = 37  # Int128 holds 38
PRECISION = 28  # Python's decimal context
# A quotient within |q| x 10**-NEAR of a number may compare otherwise once
# Python has rounded it to PRECISION digits (the margin is 0.5 x 10**-27).
NEAR = 26
TIER = "__tier"
SLOT = "__slot"
ROUTES = "__routes"
ESCAPE = "__escape"
SCORE = "__score"


class Unsupported(Exception):
    """A construct the columnar compiler does not evaluate exactly."""


@dataclass(frozen=True)
class Num:
    """A numeric expression: value x 10**scale, below 10**digits in size."""

    expr: pl.Expr
    scale: int
    digits: int

    def at(self, scale: int) -> pl.Expr:
        return (
            self.expr * 10 ** (scale - self.scale) if scale > self.scale else self.expr
        )


def decimal_places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def units(value: Decimal, scale: int) -> int:
    return int(value.scaleb(scale).to_integral_exact())


def _literal_num(value: Decimal) -> Num:
    scale = decimal_places(value)
    scaled = units(value, scale)
    return Num(pl.lit(scaled, pl.Int128), scale, len(str(abs(scaled))))


def _kleene_and(parts: list[pl.Expr]) -> pl.Expr:
    return functools.reduce(operator.and_, parts)


def _kleene_or(parts: list[pl.Expr]) -> pl.Expr:
    return functools.reduce(operator.or_, parts)


@dataclass
class Emitter:
    checked: CheckedPolicy
    tz: dt.tzinfo
    as_of: AsOf
    midnights: set[int] = field(default_factory=set)
    guards: list[pl.Expr] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.facts = {f.name: i for i, f in enumerate(self.checked.policy.facts)}
        self.scope = self.checked.scope

    # ---- conditions ----------------------------------------------------------

    def cond(self, node: ast.Expr) -> pl.Expr:  # noqa: C901 - one case per node
        match node:
            case ast.Literal(value=bool() as value):
                return pl.lit(value)
            case ast.Name():
                return self.plain(node)
            case ast.Compare():
                return self._compare(node)
            case ast.Between(operand=o, low=lo, high=hi):
                return self._between(o, lo, hi)
            case ast.In():
                return self._in(node)
            case ast.Contains():
                return self._contains(node)
            case ast.IsMissing(operand=operand, negated=negated):
                known = self.any_value(operand).is_not_null()
                return known if negated else ~known
            case ast.Within():
                return self._within(node)
            case ast.TierIs(tiers=names):
                tiers = [t.name for t in self.checked.policy.tiers]
                return pl.col(TIER).is_in([tiers.index(n) for n in names])
            case ast.Not(operand=operand):
                return ~self.cond(operand)
            case ast.And(operands=ops):
                return _kleene_and([self.cond(op) for op in ops])
            case ast.Or(operands=ops):
                return _kleene_or([self.cond(op) for op in ops])
        raise Unsupported(f"condition {type(node).__name__}")

    # ---- values ------------------------------------------------------------

    def any_value(self, node: ast.Expr) -> pl.Expr:
        if ty.is_numeric(self.checked.type_of(node)):
            return self.num(node).expr
        return self.plain(node)

    def plain(self, node: ast.Expr) -> pl.Expr:
        """A non-numeric value as its column holds it (a text value as its key)."""
        value = self._literal(node)
        if value is not None:
            return self._literal_value(value, exact=False)
        if isinstance(node, ast.Name):
            return pl.col(f"f{self.facts[node.name]}")
        return self.cond(node)

    def _literal(self, node: ast.Expr) -> Any:
        if isinstance(node, ast.Literal):
            return node.value
        if isinstance(node, ast.Name) and node.name in self.scope.constants:
            return self.scope.constants[node.name].value.value
        return None

    def _literal_value(self, value: Any, exact: bool) -> pl.Expr:
        if isinstance(value, bool):
            return pl.lit(value)
        if isinstance(value, str):
            return pl.lit(text_key(value, exact))
        if isinstance(value, dt.datetime):
            return pl.lit(micros(self._aware(value)), pl.Int64)
        if isinstance(value, dt.date):
            return pl.lit(value, pl.Date)
        raise Unsupported(f"literal {value!r}")

    def _aware(self, value: dt.datetime) -> dt.datetime:
        """A date and time written without an offset is in the policy's zone."""
        return value if value.tzinfo is not None else value.replace(tzinfo=self.tz)

    def num(self, node: ast.Expr) -> Num:
        value = self._literal(node)
        if isinstance(value, Decimal):
            return _literal_num(value)
        match node:
            case ast.Name(name=name):
                index = self.facts[name]
                scale = scale_of(self.checked.policy.facts[index])
                return Num(pl.col(f"f{index}"), scale, DIGITS + scale)
            case ast.Negate(operand=operand):
                inner = self.num(operand)
                return Num(inner.expr * -1, inner.scale, inner.digits)
            case ast.Arithmetic():
                return self._arithmetic(node)
            case ast.DaysBetween():
                return self._days_between(node)
        raise Unsupported(f"number {type(node).__name__}")

    def _arithmetic(self, node: ast.Arithmetic) -> Num:
        left, right = self.num(node.left), self.num(node.right)
        if node.op == "/":  # Python's rounding: the per-account evaluator decides
            self.guards.append(left.expr.is_not_null() & right.expr.is_not_null())
            return Num(pl.lit(None, pl.Int128), 0, 1)
        if node.op == "*":
            digits = left.digits + right.digits
            result = Num(left.expr * right.expr, left.scale + right.scale, digits)
        else:
            scale = max(left.scale, right.scale)
            digits = (
                max(
                    left.digits + scale - left.scale, right.digits + scale - right.scale
                )
                + 1
            )
            op = operator.add if node.op == "+" else operator.sub
            result = Num(op(left.at(scale), right.at(scale)), scale, digits)
        if result.digits > MAX_DIGITS:
            raise Unsupported("a product too large to bound")
        if result.digits > PRECISION:  # Python would round: let it decide
            self.guards.append(
                (result.expr >= 10**PRECISION) | (result.expr <= -(10**PRECISION))
            )
        return result

    def _days_between(self, node: ast.DaysBetween) -> Num:
        day = self._local_day(node.operand)
        today = self.as_of.today
        sign = -1 if node.direction == "until" else 1
        if node.unit == "days":
            days = (pl.lit(today) - day).dt.total_days() * sign
            return Num(days.cast(pl.Int128), 0, 7)
        month, mday = day.dt.month(), day.dt.day()
        if sign > 0:
            later = (month > today.month) | (
                (month == today.month) & (mday > today.day)
            )
            years = today.year - day.dt.year().cast(pl.Int64) - later.cast(pl.Int64)
        else:
            earlier = (month < today.month) | (
                (month == today.month) & (mday < today.day)
            )
            years = day.dt.year().cast(pl.Int64) - today.year - earlier.cast(pl.Int64)
        return Num(years.cast(pl.Int128), 0, 5)

    def _local_day(self, node: ast.Expr) -> pl.Expr:
        """A date, or a datetime's date in the policy's time zone."""
        value = self._literal(node)
        if isinstance(value, dt.datetime):
            return pl.lit(self._aware(value).astimezone(self.tz).date(), pl.Date)
        if isinstance(value, dt.date):
            return pl.lit(value, pl.Date)
        assert isinstance(node, ast.Name)
        index = self.facts[node.name]
        if self.checked.type_of(node).family == "datetime":
            return pl.col(f"d{index}")
        return pl.col(f"f{index}")

    # ---- comparisons ---------------------------------------------------------

    def _compare(self, node: ast.Compare) -> pl.Expr:
        left, right = self._comparable(node.left, node.right)
        match node.op:
            case "=":
                return left == right
            case "!=":
                return left != right
            case "<":
                return left < right
            case "<=":
                return left <= right
            case ">":
                return left > right
        return left >= right

    def _comparable(self, a: ast.Expr, b: ast.Expr) -> tuple[pl.Expr, pl.Expr]:
        """Both sides as the policy means them compared (`compile._comparable`)."""
        ta, tb = self.checked.type_of(a), self.checked.type_of(b)
        if ty.is_textual(ta) or ty.is_textual(tb):
            exact = self._exact(a) or self._exact(b)
            return self._text(a, exact), self._text(b, exact)
        if ty.is_numeric(ta) and ty.is_numeric(tb):
            crossed = self._quotient(a, b)
            if crossed is not None:
                return crossed
            na, nb = self.num(a), self.num(b)
            scale = max(na.scale, nb.scale)
            if max(na.digits - na.scale, nb.digits - nb.scale) + scale > MAX_DIGITS:
                raise Unsupported("numbers too large to align")
            return na.at(scale), nb.at(scale)
        if {ta.family, tb.family} == {"date", "datetime"}:
            return self._as_datetime(a, ta), self._as_datetime(b, tb)
        if "list" in (ta.family, tb.family):
            raise Unsupported("comparing lists")
        return self.plain(a), self.plain(b)

    def _quotient(self, a: ast.Expr, b: ast.Expr) -> tuple[pl.Expr, pl.Expr] | None:
        """A quotient compared with a number, multiplied out: `n / d` against `x`
        as `n * sign(d)` against `x * |d|`, both at one scale.

        Python rounds the quotient to 28 digits; that can change the comparison
        only when the quotient is within a 10**-27 share of `x`, and such rows
        go to the per-account evaluator. None when neither side (or both) is a
        quotient, or when the products could overflow.
        """
        ratios = [isinstance(n, ast.Arithmetic) and n.op == "/" for n in (a, b)]
        if ratios.count(True) != 1:
            return None
        ratio, other = (a, b) if ratios[0] else (b, a)
        assert isinstance(ratio, ast.Arithmetic)
        n, d, x = self.num(ratio.left), self.num(ratio.right), self.num(other)
        # q = n / d and x = X / 10**x.scale; multiplied by |d| * 10**(...) > 0:
        left_digits = n.digits + d.scale + x.scale
        if max(left_digits, x.digits + d.digits + n.scale) > MAX_DIGITS:
            return None
        left = pl.when(d.expr != 0).then(
            n.expr * 10 ** (d.scale + x.scale) * d.expr.sign()
        )
        right = x.expr * d.expr.abs() * 10**n.scale
        if left_digits > NEAR:
            size, gap = left.abs(), (left - right).abs()
            self.guards.append((size >= 10**NEAR) & (gap <= size // 10**NEAR))
        return (left, right) if ratios[0] else (right, left)

    def _exact(self, node: ast.Expr) -> bool:
        if isinstance(node, ast.Name) and node.name in self.scope.facts:
            return bool(self.scope.facts[node.name].exact)
        return False

    def _text(self, node: ast.Expr, exact: bool) -> pl.Expr:
        value = self._literal(node)
        if isinstance(value, str):
            return pl.lit(text_key(value, exact))
        return self.plain(node)

    def _as_datetime(self, node: ast.Expr, t: ty.Type) -> pl.Expr:
        if t.family == "datetime":
            return self.plain(node)
        value = self._literal(node)
        if isinstance(value, dt.date):
            return pl.lit(micros(dt.datetime.combine(value, dt.time(), self.tz)))
        assert isinstance(node, ast.Name)
        index = self.facts[node.name]
        self.midnights.add(index)
        return pl.col(f"m{index}")

    def _between(self, o: ast.Expr, lo: ast.Expr, hi: ast.Expr) -> pl.Expr:
        x, low = self._comparable(o, lo)
        y, high = self._comparable(o, hi)
        body = (low <= x) & (y <= high)
        if self._literal(lo) is not None and self._literal(hi) is not None:
            return body  # only the operand can be unknown, and `&` keeps it so
        unknown = x.is_null() | low.is_null() | high.is_null()
        return pl.when(unknown).then(pl.lit(None, pl.Boolean)).otherwise(body)

    # ---- sets ----------------------------------------------------------------

    def _items(self, collection: ast.Collection | None) -> list[Any]:
        if isinstance(collection, ast.SetRef):
            return [i.value for i in self.scope.sets[collection.name].items]
        assert collection is not None
        return [i.value for i in collection.items]

    def _in(self, node: ast.In) -> pl.Expr:
        items = self._items(node.collection)
        family = self.checked.type_of(node.operand).family
        found = self._membership(node.operand, family, items)
        return ~found if node.negated else found

    def _membership(self, operand: ast.Expr, family: str, items: list[Any]) -> pl.Expr:
        if family == "text":
            exact = self._exact(operand)
            keys = sorted({text_key(str(i), exact) for i in items})
            return self.plain(operand).is_in(keys)
        if family == "numeric":
            number = self.num(operand)
            numbers = [i for i in items if isinstance(i, Decimal)]
            scale = max([number.scale, *(decimal_places(i) for i in numbers)])
            if number.digits - number.scale + scale > MAX_DIGITS:
                raise Unsupported("numbers too large to align")
            scaled = pl.Series([units(i, scale) for i in numbers], dtype=pl.Int128)
            return number.at(scale).is_in(scaled.implode())
        value = self.plain(operand)
        same = [i for i in items if _same_kind(i, family)]
        if family == "datetime":
            stamps = pl.Series([micros(self._aware(i)) for i in same], dtype=pl.Int64)
            return value.is_in(stamps.implode())
        if family == "date":
            return value.is_in(pl.Series(same, dtype=pl.Date).implode())
        return value.is_in(pl.Series(same, dtype=pl.Boolean).implode())

    def _contains(self, node: ast.Contains) -> pl.Expr:
        container = self.plain(node.operand)
        if self.checked.type_of(node.operand).family == "list":
            return self._list_contains(node, container)
        assert node.item is not None  # text: `contains` looks for a substring
        item = self._text(node.item, self._exact(node.operand))
        return container.str.contains(item, literal=True)

    def _list_contains(self, node: ast.Contains, container: pl.Expr) -> pl.Expr:
        assert isinstance(node.operand, ast.Name)
        fact = self.scope.facts[node.operand.name]
        exact = fact.exact
        if node.mode == "one":
            assert node.item is not None
            item = self._literal(node.item)
            if not isinstance(item, str):
                raise Unsupported("a list searched for a fact's value")
            return cast(pl.Expr, list_has(container, fact, [text_key(item, exact)]))
        keys = sorted({text_key(str(i), exact) for i in self._items(node.collection)})
        if node.mode == "any":
            return cast(pl.Expr, list_has(container, fact, keys))
        if not keys:
            return pl.when(container.is_null()).then(None).otherwise(True)
        return _kleene_and([list_has(container, fact, [k]) for k in keys])

    def _within(self, node: ast.Within) -> pl.Expr:
        temporal = self.checked.type_of(node.operand).family
        sign = -1 if node.direction == "past" else 1
        anchor: dt.date = self.as_of.today if temporal == "date" else self.as_of.now
        edge = runtime.shift(anchor, sign * node.amount, node.unit)
        low, high = (edge, anchor) if sign < 0 else (anchor, edge)
        value = self.plain(node.operand)
        if temporal == "datetime":
            return cast(pl.Expr, (value >= micros(low)) & (value <= micros(high)))
        return (value >= pl.lit(low, pl.Date)) & (value <= pl.lit(high, pl.Date))


def _same_kind(item: Any, family: str) -> bool:
    """Whether a set item can equal a value of `family` (a date never equals a
    date and time in Python, so `in` finds neither in a set of the other)."""
    if family == "datetime":
        return isinstance(item, dt.datetime)
    if family == "date":
        return isinstance(item, dt.date) and not isinstance(item, dt.datetime)
    return isinstance(item, bool)


# ---- statements ----------------------------------------------------------------


@dataclass
class Plan:
    """The stages of expressions that grade a batch of typed facts."""

    outcomes: list[pl.Expr]
    score: pl.Expr
    tier: pl.Expr
    slot: pl.Expr
    routes: pl.Expr
    masks: list[pl.Expr]
    escape: pl.Expr | None
    midnights: set[int]
    score_scale: int


def plan(checked: CheckedPolicy, tz: dt.tzinfo, as_of: AsOf) -> Plan:
    """Compile the policy for one as-of; raises `Unsupported` when it cannot."""
    emitter = Emitter(checked, tz, as_of)
    policy = checked.policy
    outcomes = [_criterion(emitter, i, c) for i, c in enumerate(policy.criteria)]
    score, scale = _score(policy)
    slot = _overrides(emitter, policy)
    routes = _routes(emitter, policy)
    escape = _kleene_or(emitter.guards) if emitter.guards else None
    return Plan(
        outcomes=outcomes,
        score=score,
        tier=_tier(policy, scale),
        slot=slot,
        routes=routes,
        masks=_masks(checked),
        escape=escape,
        midnights=emitter.midnights,
        score_scale=scale,
    )


def _criterion(emitter: Emitter, index: int, criterion: ast.Criterion) -> pl.Expr:
    """`o{index}`: a branch number, then otherwise, then missing (as in
    `compile._criterion`)."""
    whens = [b for b in criterion.branches if b.kind == "when"]
    otherwise, missing = len(whens), len(whens) + 1
    if not whens:
        return pl.lit(otherwise, pl.Int32).alias(f"o{index}")
    conditions = [emitter.cond(b.condition) for b in whens if b.condition is not None]
    unknown = _kleene_or([c.is_null() for c in conditions])
    final = (
        pl.when(unknown)
        .then(pl.lit(missing, pl.Int32))
        .otherwise(pl.lit(otherwise, pl.Int32))
    )
    chain: Any = pl
    for number, condition in enumerate(conditions):
        chain = chain.when(condition).then(pl.lit(number, pl.Int32))
    return cast(pl.Expr, chain.otherwise(final).alias(f"o{index}"))


def _score(policy: ast.Policy) -> tuple[pl.Expr, int]:
    """The score in integer units of 10**-scale: exact, never a float."""
    shares = [contributions(c) for c in policy.criteria]
    numbers = [s for group in shares for s in group] + [
        t.threshold for t in policy.tiers
    ]
    scale = (
        max(decimal_places(Decimal(n).normalize()) for n in numbers) if numbers else 0
    )
    dtype = _score_dtype(policy, scale)
    parts = [
        pl.col(f"o{i}").replace_strict(
            list(range(len(group))),
            [units(s, scale) for s in group],
            return_dtype=dtype,
        )
        for i, group in enumerate(shares)
    ]
    return functools.reduce(lambda a, b: a + b, parts).alias(SCORE), scale


def _score_dtype(policy: ast.Policy, scale: int) -> pl.DataType:
    """Int64 when no score or threshold can reach 2**62 units (faster), else Int128."""
    most = sum(
        max(abs(units(s, scale)) for s in contributions(c)) for c in policy.criteria
    )
    most = max([most, *(abs(units(t.threshold, scale)) for t in policy.tiers)])
    return pl.Int64() if most < 1 << 62 else pl.Int128()


def _tier(policy: ast.Policy, scale: int) -> pl.Expr:
    tiers = policy.tiers
    last = pl.lit(len(tiers) - 1, pl.Int32)
    if len(tiers) == 1:
        return last
    chain: Any = pl
    dtype = _score_dtype(policy, scale)
    for index, tier in enumerate(tiers[:-1]):
        threshold = pl.lit(units(tier.threshold, scale), dtype)
        chain = chain.when(pl.col(SCORE) >= threshold).then(pl.lit(index, pl.Int32))
    return cast(pl.Expr, chain.otherwise(last))


def _overrides(emitter: Emitter, policy: ast.Policy) -> pl.Expr:
    """The override slot that fired, or -1 (`compile._overrides`)."""
    chain: Any = pl
    slots = override_slots(policy)
    if not slots:
        return pl.lit(-1, pl.Int32).alias(SLOT)
    for number in range(0, len(slots), 2):
        normal, missing = slots[number], slots[number + 1]
        condition = emitter.cond(normal.override.condition)
        chain = chain.when(condition).then(pl.lit(number, pl.Int32))
        if missing.effect.kind != "skip":
            chain = chain.when(condition.is_null()).then(pl.lit(number + 1, pl.Int32))
    return cast(pl.Expr, chain.otherwise(pl.lit(-1, pl.Int32)).alias(SLOT))


def slot_effects(policy: ast.Policy) -> tuple[list[bool], list[int]]:
    """For each slot: whether it excludes, and the tier it forces (-1: none)."""
    tiers = [t.name for t in policy.tiers]
    slots = override_slots(policy)
    excludes = [s.effect.kind == "exclude" for s in slots]
    forced = [
        tiers.index(s.effect.tier) if s.effect.kind == "tier" and s.effect.tier else -1
        for s in slots
    ]
    return excludes, forced


def _routes(emitter: Emitter, policy: ast.Policy) -> pl.Expr:
    """A bit per route that fires (`compile._routes`); the evaluator stage masks
    excluded accounts."""
    routes = policy.routes
    if routes is None:
        return pl.lit(0, pl.Int64).alias(ROUTES)
    if len(routes.routes) > 62:
        raise Unsupported("more than 62 routes")
    fallback = next(
        (i for i, r in enumerate(routes.routes) if r.condition is None), None
    )
    conditions = [
        (i, emitter.cond(r.condition))
        for i, r in enumerate(routes.routes)
        if r.condition is not None
    ]
    none = pl.lit(0 if fallback is None else 1 << fallback, pl.Int64)
    if routes.mode == "first":
        chain: Any = pl
        for index, condition in conditions:
            chain = chain.when(condition).then(pl.lit(1 << index, pl.Int64))
        fired = chain.otherwise(none) if conditions else none
    else:
        bits = [
            pl.when(condition)
            .then(pl.lit(1 << index, pl.Int64))
            .otherwise(pl.lit(0, pl.Int64))
            for index, condition in conditions
        ]
        total = (
            functools.reduce(lambda a, b: a | b, bits) if bits else pl.lit(0, pl.Int64)
        )
        fired = pl.when(total == 0).then(none).otherwise(total)
    return fired.alias(ROUTES)


def _masks(checked: CheckedPolicy) -> list[pl.Expr]:
    """Which facts a criterion that took its missing branch lacks, as bits."""
    policy = checked.policy
    facts = {f.name: i for i, f in enumerate(policy.facts)}
    groups = (len(policy.facts) + 61) // 62
    masks = []
    for group in range(groups):
        parts = []
        for index, criterion in enumerate(policy.criteria):
            reads = criterion_reads(criterion, facts)
            bits = [
                pl.when(pl.col(f"f{i}").is_null())
                .then(pl.lit(1 << (i % 62), pl.Int64))
                .otherwise(pl.lit(0, pl.Int64))
                for i in reads
                if i // 62 == group
            ]
            if not bits:
                continue
            missing = sum(1 for b in criterion.branches if b.kind == "when") + 1
            union = functools.reduce(lambda a, b: a | b, bits)
            parts.append(
                pl.when(pl.col(f"o{index}") == missing)
                .then(union)
                .otherwise(pl.lit(0, pl.Int64))
            )
        mask = (
            functools.reduce(lambda a, b: a | b, parts)
            if parts
            else pl.lit(0, pl.Int64)
        )
        masks.append(mask.alias(f"__mask{group}"))
    return masks


def criterion_reads(criterion: ast.Criterion, facts: dict[str, int]) -> list[int]:
    """The facts a criterion's conditions read (`policy._CriterionLedger.reads`)."""
    return sorted(
        {
            facts[node.name]
            for b in criterion.branches
            if b.kind == "when" and b.condition is not None
            for node in ast.walk(b.condition)
            if isinstance(node, ast.Name) and node.name in facts
        }
    )
