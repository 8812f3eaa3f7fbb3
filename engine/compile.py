"""A checked policy to one generated Python function.

The generated function takes the account's typed fact values and the as-of
bounds and returns which branch each criterion took, the score, the tier, the
override that fired and the routes that matched. It is produced from the
checked tree, never from user text: facts become positional locals, every
literal becomes a constant bound by position, so no name or value written in
a policy can reach the generated source. Unknown values are `None` and every
condition follows Kleene's three-valued logic, as SQL does.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tierwise.dsl import ast
from tierwise.dsl import types as ty
from tierwise.dsl.check import CheckedPolicy
from tierwise.dsl.typecheck import text_key
from tierwise.engine import runtime

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Bound:
    """A moving date the as-of decides, such as 'today minus 30 days'."""

    temporal: str  # "date" or "datetime"
    amount: int
    unit: str
    sign: int  # -1 for the past, +1 for the future


@dataclass
class Generated:
    source: str
    function: Any  # evaluate(values, today, now, bounds)
    grade: Any  # grade(facts, today, now, bounds), see `generate`
    bounds: list[Bound]


@dataclass
class _Emitter:
    checked: CheckedPolicy
    tz: dt.tzinfo
    constants: list[Any] = field(default_factory=list)
    bounds: list[Bound] = field(default_factory=list)
    temps: int = 0

    # ---- names --------------------------------------------------------------

    def constant(self, value: Any) -> str:
        if type(value) is Decimal and value == value.to_integral_value():
            # Whole numbers compare and add exactly as ints, and much faster.
            value = int(value)
        for index, existing in enumerate(self.constants):
            if type(existing) is type(value) and existing == value:
                return f"k{index}"
        self.constants.append(value)
        return f"k{len(self.constants) - 1}"

    def temp(self) -> str:
        self.temps += 1
        return f"t{self.temps}"

    def bound(self, bound: Bound) -> str:
        if bound not in self.bounds:
            self.bounds.append(bound)
        return f"b{self.bounds.index(bound)}"

    def fact_index(self, name: str) -> int:
        return [f.name for f in self.checked.policy.facts].index(name)

    # ---- expressions: each returns (code, nullable) -------------------------

    def expr(self, node: ast.Expr) -> tuple[str, bool]:  # noqa: C901 - one case per node
        match node:
            case ast.Literal(value=dt.datetime() as value) if value.tzinfo is None:
                # A date and time written without an offset is local to the policy.
                return self.constant(value.replace(tzinfo=self.tz)), False
            case ast.Literal(value=value):
                return self.constant(value), False
            case ast.Name(name=name):
                return self._name(name)
            case ast.Negate(operand=operand):
                return self._unary("-", operand)
            case ast.Arithmetic():
                return self._arithmetic(node)
            case ast.DaysBetween():
                return self._days_between(node)
            case ast.Compare():
                return self._compare(node)
            case ast.Between(operand=o, low=lo, high=hi):
                return self._between(o, lo, hi)
            case ast.In():
                return self._in(node)
            case ast.Contains():
                return self._contains(node)
            case ast.IsMissing(operand=operand, negated=negated):
                code, nullable = self.expr(operand)
                if not nullable:  # a fact with a default is never missing
                    return ("True" if negated else "False"), False
                return f"({code} is {'not ' if negated else ''}None)", False
            case ast.Within():
                return self._within(node)
            case ast.TierIs(tiers=names):
                indexes = {self._tier_index(n) for n in names}
                return f"(T in {self.constant(frozenset(indexes))})", False
            case ast.Not(operand=operand):
                return self._unary("not ", operand)
            case ast.And(operands=ops):
                return self._kleene(ops, "False", "True")
            case ast.Or(operands=ops):
                return self._kleene(ops, "True", "False")
        raise AssertionError(f"unhandled expression {node!r}")

    def _name(self, name: str) -> tuple[str, bool]:
        scope = self.checked.scope
        if name in scope.constants:
            return self.constant(scope.constants[name].value.value), False
        fact = scope.facts[name]
        return f"f{self.fact_index(name)}", fact.default is None

    def _guarded(
        self, parts: list[tuple[str, bool]], body: Callable[[list[str]], str]
    ) -> tuple[str, bool]:
        """`body` over the parts' values, or None when a nullable part is None.

        Each nullable part is evaluated once, into a temporary, before `body`
        uses it; the others are used in place.
        """
        uses, tests = [], []
        for code, nullable in parts:
            if nullable and not code.isidentifier():
                name = self.temp()
                tests.append(f"({name} := {code}) is None")
                uses.append(name)
            else:
                if nullable:
                    tests.append(f"{code} is None")
                uses.append(code)
        if not tests:
            return f"({body(uses)})", False
        return f"(None if {' or '.join(tests)} else {body(uses)})", True

    def _unary(self, op: str, operand: ast.Expr) -> tuple[str, bool]:
        return self._guarded([self.expr(operand)], lambda u: f"{op}{u[0]}")

    def _arithmetic(self, node: ast.Arithmetic) -> tuple[str, bool]:
        parts = [self.expr(node.left), self.expr(node.right)]
        if node.op == "/":  # dividing by zero gives an unknown value
            code, _ = self._guarded(parts, lambda u: self._quotient(node, *u))
            return code, True
        return self._guarded(parts, lambda u: f"{u[0]} {node.op} {u[1]}")

    def _quotient(self, node: ast.Arithmetic, numerator: str, denominator: str) -> str:
        """`numerator / denominator` as a decimal, None when dividing by zero.

        Inline where it can be (a call and two conversions cost more than the
        division): the numerator must already be a decimal, so that two
        whole numbers still divide exactly as decimals do.
        """
        if not (denominator.isidentifier() and self._decimal(node.left)):
            return f"_divide({numerator}, {denominator})"
        return f"(None if {denominator} == 0 else {numerator} / {denominator})"

    def _decimal(self, node: ast.Expr) -> bool:
        """Whether `node` is a `Decimal` when known (whole literals are ints)."""
        match node:
            case ast.Literal(value=Decimal() as value):
                return value != value.to_integral_value()
            case ast.Name(name=name) if name in self.checked.scope.facts:
                return self.checked.scope.facts[name].kind in ("number", "money")
            case ast.Name(name=name) if name in self.checked.scope.constants:
                return self._decimal(self.checked.scope.constants[name].value)
            case ast.Negate(operand=operand):
                return self._decimal(operand)
            case ast.Arithmetic(op="/"):
                return True
            case ast.Arithmetic(left=left, right=right):
                return self._decimal(left) or self._decimal(right)
        return False

    def _days_between(self, node: ast.DaysBetween) -> tuple[str, bool]:
        fn = "_years_since" if node.unit == "years" else "_days_since"
        sign = -1 if node.direction == "until" else 1
        tz = self.constant(self.tz)
        return self._guarded(
            [self.expr(node.operand)], lambda u: f"{fn}({u[0]}, today, {tz}, {sign})"
        )

    def _compare(self, node: ast.Compare) -> tuple[str, bool]:
        left = self._comparable(node.left, node.right)
        right = self._comparable(node.right, node.left)
        op = "==" if node.op == "=" else node.op
        return self._guarded([left, right], lambda u: f"{u[0]} {op} {u[1]}")

    def _between(
        self, operand: ast.Expr, low: ast.Expr, high: ast.Expr
    ) -> tuple[str, bool]:
        parts = [
            self._comparable(operand, low),
            self._comparable(low, operand),
            self._comparable(high, operand),
        ]
        return self._guarded(parts, lambda u: f"{u[1]} <= {u[0]} <= {u[2]}")

    def _comparable(self, node: ast.Expr, other: ast.Expr) -> tuple[str, bool]:
        """`node` compiled to compare with `other` as the policy means."""
        mine, theirs = self.checked.type_of(node), self.checked.type_of(other)
        if ty.is_textual(mine) or ty.is_textual(theirs):
            return self._text(node, self._exact(node) or self._exact(other))
        if {mine.family, theirs.family} == {"date", "datetime"}:
            return self._as_datetime(node, mine)
        return self.expr(node)

    def _exact(self, node: ast.Expr) -> bool:
        if isinstance(node, ast.Name) and node.name in self.checked.scope.facts:
            return self.checked.scope.facts[node.name].exact
        return False

    def _text(self, node: ast.Expr, exact: bool) -> tuple[str, bool]:
        value = self._literal(node)
        if isinstance(value, str):
            return self.constant(text_key(value, exact)), False
        return self.expr(node)

    def _literal(self, node: ast.Expr) -> Any:
        if isinstance(node, ast.Literal):
            return node.value
        if isinstance(node, ast.Name) and node.name in self.checked.scope.constants:
            return self.checked.scope.constants[node.name].value.value
        return None

    def _as_datetime(self, node: ast.Expr, t: ty.Type) -> tuple[str, bool]:
        """A date compared with a date and time stands for its local midnight."""
        if t.family == "datetime":
            return self.expr(node)
        value = self._literal(node)
        if isinstance(value, dt.date):
            return self.constant(dt.datetime.combine(value, dt.time(), self.tz)), False
        tz = self.constant(self.tz)
        return self._guarded([self.expr(node)], lambda u: f"_midnight({u[0]}, {tz})")

    def _collection(self, operand: ast.Expr, collection: ast.Collection | None) -> str:
        if isinstance(collection, ast.SetRef):
            declared = self.checked.scope.sets[collection.name]
            items = [item.value for item in declared.items]
        else:
            assert collection is not None
            items = [item.value for item in collection.items]
        operand_type = self.checked.type_of(operand)
        if ty.is_textual(operand_type) or operand_type.family == "list":
            exact = self._exact(operand)
            items = [text_key(str(i), exact) for i in items]
        return self.constant(frozenset(items))

    def _in(self, node: ast.In) -> tuple[str, bool]:
        values = self._collection(node.operand, node.collection)
        op = "not in" if node.negated else "in"
        return self._guarded(
            [self.expr(node.operand)], lambda u: f"{u[0]} {op} {values}"
        )

    def _contains(self, node: ast.Contains) -> tuple[str, bool]:
        container = self.expr(node.operand)
        if node.mode == "one":
            assert node.item is not None
            item = self._text(node.item, self._exact(node.operand))
            return self._guarded([item, container], lambda u: f"{u[0]} in {u[1]}")
        values = self._collection(node.operand, node.collection)
        if node.mode == "any":
            return self._guarded(
                [container], lambda u: f"not {values}.isdisjoint({u[0]})"
            )
        return self._guarded([container], lambda u: f"{values} <= {u[0]}")

    def _within(self, node: ast.Within) -> tuple[str, bool]:
        temporal = self.checked.type_of(node.operand).family
        sign = -1 if node.direction == "past" else 1
        edge = self.bound(Bound(temporal, node.amount, node.unit, sign))
        anchor = "today" if temporal == "date" else "now"
        low, high = (edge, anchor) if sign < 0 else (anchor, edge)
        return self._guarded(
            [self.expr(node.operand)], lambda u: f"{low} <= {u[0]} <= {high}"
        )

    def _kleene(
        self, ops: tuple[ast.Expr, ...], dominant: str, neutral: str
    ) -> tuple[str, bool]:
        """`and` (False dominates) or `or` (True dominates) in three values."""
        compiled = [self.expr(op) for op in ops]
        joiner = " and " if dominant == "False" else " or "
        if not any(nullable for _, nullable in compiled):
            return "(" + joiner.join(code for code, _ in compiled) + ")", False
        names = [self.temp() for _ in compiled]
        hits = " or ".join(
            f"({n} := {code}) is {dominant}" for n, (code, _) in zip(names, compiled)
        )
        unknown = " or ".join(
            f"{n} is None" for n, (_, null) in zip(names, compiled) if null
        )
        return f"({dominant} if {hits} else (None if {unknown} else {neutral}))", True

    def _tier_index(self, name: str) -> int:
        return [t.name for t in self.checked.policy.tiers].index(name)


# ---- statements ----------------------------------------------------------------


@dataclass(frozen=True)
class OverrideSlot:
    """One way an override can fire: its condition held, or its facts were missing."""

    override: ast.Override
    effect: ast.Effect
    on_missing: bool


def override_slots(policy: ast.Policy) -> list[OverrideSlot]:
    slots = []
    for override in policy.overrides:
        slots.append(OverrideSlot(override, override.effect, False))
        slots.append(OverrideSlot(override, override.on_missing, True))
    return slots


def generate(
    checked: CheckedPolicy, tz: dt.tzinfo, coercers: list[Callable[[Any], Any]]
) -> Generated:
    """Generate, compile and return the policy's evaluation functions.

    `evaluate(values, today, now, bounds)` grades typed fact values;
    `grade(facts, today, now, bounds)` reads them from a mapping first, in
    the same frame (a call per fact costs as much as a comparison), or
    returns None to ask for the careful path (see `_reader`). Both return the
    outcome: score in units, tier index, override slot, excluded, routes, the
    branch of each criterion and a bit mask of the facts that are missing
    (bit i for fact i). A mask, not the values, so that a result kept for
    its explanation keeps no containers alive for the garbage collector to
    walk: with many results in memory that walk costs more than grading.
    """
    emitter = _Emitter(checked, tz)
    body = _body(emitter)
    facts = checked.policy.facts
    reader, fields = _reader(facts, coercers, len(emitter.constants))
    emitter.constants += fields
    params = ", ".join(f"k{i}" for i in range(len(emitter.constants)))
    readers = "".join(f", c{i}" for i in range(len(facts)))
    bounds = ", ".join(f"b{i}" for i in range(len(emitter.bounds)))
    unpack = [
        f"({''.join(f'f{i}, ' for i in range(len(facts)))}) = values",
        f"({bounds}{',' if bounds else ''}) = bounds",
        "m = 0",
        *(
            f"if f{i} is None: m |= {1 << i}"
            for i, fact in enumerate(facts)
            if fact.default is None
        ),
    ]
    lines = [
        f"def _factory(M, date, {params}{readers}):",
        "    def evaluate(values, today, now, bounds):",
        *("        " + line for line in [*unpack, *body]),
        "    def grade(facts, today, now, bounds):",
        *("        " + line for line in [*reader, *unpack, *body]),
        "    return evaluate, grade",
    ]
    source = "\n".join(lines) + "\n"
    logger.debug("generated evaluator for %s:\n%s", checked.policy.name, source)
    namespace = dict(runtime.HELPERS)
    exec(
        compile(source, f"<tierwise policy {checked.policy.name!r}>", "exec"), namespace
    )
    evaluate, grade = namespace["_factory"](
        object(), dt.date, *emitter.constants, *coercers
    )
    return Generated(source, evaluate, grade, emitter.bounds)


# Exact types a fact of each kind takes as they are, without a call to its
# coercer: what typed callers (JSON, Python) send most.
_READY_TYPES = {"int": "int", "bool": "bool", "date": "date"}


def _reader(
    facts: tuple[ast.FactDecl, ...], coercers: list[Callable[[Any], Any]], first: int
) -> tuple[list[str], list[Any]]:
    """Lines reading `values` from the mapping `facts`, and the constants used.

    Each fact is read from the field named exactly as its `from` (or, failing
    that, its name), as `CompiledPolicy.bind` would choose it; when a fact has
    no such field the lines return None and the caller binds fields loosely.
    A coercer's `BadValue` propagates: the caller then reads the record the
    careful way, to name every bad field. Field names and each fact's value
    when missing are bound as constants from `k<first>` on, like literals.
    """
    names: list[Any] = []
    lines = ["get = facts.get"]
    absent, values = [], []
    for index, (fact, coercer) in enumerate(zip(facts, coercers)):
        keys = [fact.name]
        if fact.source and fact.source != fact.name:
            keys.insert(0, fact.source)
        for number, key in enumerate(keys):
            names.append(key)
            read = f"r{index} = get(k{first + len(names) - 1}, M)"
            lines.append(f"if r{index} is M: {read}" if number else read)
        absent.append(f"r{index} is M")
        names.append(coercer(None))  # what a missing value reads as
        value = f"k{first + len(names) - 1} if r{index} is None else "
        ready = _READY_TYPES.get(fact.kind)
        if ready:
            value += f"r{index} if type(r{index}) is {ready} else "
        values.append(f"{value}c{index}(r{index})")
    if absent:
        lines += [f"if {' or '.join(absent)}:", "    return None"]
    lines.append(f"values = ({''.join(v + ', ' for v in values)})")
    return lines, names


def _body(emitter: _Emitter) -> list[str]:
    policy = emitter.checked.policy
    lines: list[str] = []
    for index, criterion in enumerate(policy.criteria):
        lines += _criterion(emitter, index, criterion)
    scale = score_scale(policy)
    sums = " + ".join(
        f"{emitter.constant(tuple(units(v, scale) for v in contributions(c)))}[o{i}]"
        for i, c in enumerate(policy.criteria)
    )
    lines.append(f"s = {sums or 0}")
    lines += _tiers(emitter)
    lines += _overrides(emitter)
    lines += _routes(emitter)
    outcomes = "".join(f"o{i}, " for i in range(len(policy.criteria)))
    lines.append(f"return s, T, X, E, R, ({outcomes}), m")
    return lines


def contributions(criterion: ast.Criterion) -> tuple[Decimal, ...]:
    """Each outcome's share of the score: the `when` branches, otherwise, missing."""
    points = [b.points for b in criterion.branches if b.kind == "when"]
    for kind in ("otherwise", "missing"):
        found = [b.points for b in criterion.branches if b.kind == kind]
        points.append(found[0] if found else Decimal(0))
    return tuple(criterion.weight * p / 100 for p in points)


def score_scale(policy: ast.Policy) -> int:
    """Decimal places that hold every contribution and threshold exactly.

    The evaluator adds scores as whole units of 10^-scale: integer sums are
    exact and several times faster than decimal ones.
    """
    values = [v for c in policy.criteria for v in contributions(c)]
    values += [t.threshold for t in policy.tiers]
    return max((_places(v) for v in values), default=0)


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def units(value: Decimal, scale: int) -> int:
    """`value` in units of 10^-scale; exact by the choice of scale."""
    return int(value.scaleb(scale))


def _criterion(emitter: _Emitter, index: int, criterion: ast.Criterion) -> list[str]:
    """`oN` is the outcome: a branch number, then otherwise, then missing."""
    whens = [b for b in criterion.branches if b.kind == "when"]
    otherwise, missing = len(whens), len(whens) + 1
    lines: list[str] = []
    unknowns: list[str] = []
    for number, branch in enumerate(whens):
        assert branch.condition is not None
        code, nullable = emitter.expr(branch.condition)
        keyword = "if" if number == 0 else "elif"
        lines.append(f"{keyword} (c{index}_{number} := {code}):")
        lines.append(f"    o{index} = {number}")
        if nullable:
            unknowns.append(f"c{index}_{number} is None")
    final = (
        f"{missing} if {' or '.join(unknowns)} else {otherwise}"
        if unknowns
        else str(otherwise)
    )
    if not whens:
        return [f"o{index} = {otherwise}"]
    return [*lines, "else:", f"    o{index} = {final}"]


def _tiers(emitter: _Emitter) -> list[str]:
    tiers = emitter.checked.policy.tiers
    scale = score_scale(emitter.checked.policy)
    lines = []
    for index, tier in enumerate(tiers[:-1]):
        keyword = "if" if index == 0 else "elif"
        lines += [
            f"{keyword} s >= {emitter.constant(units(tier.threshold, scale))}:",
            f"    T = {index}",
        ]
    last = f"T = {len(tiers) - 1}"
    return [*lines, "else:", f"    {last}"] if lines else [last]


def _overrides(emitter: _Emitter) -> list[str]:
    """`X` is the override slot that fired (or -1); `E` whether it excludes."""
    lines = ["X = -1", "E = False"]
    tier_names = [t.name for t in emitter.checked.policy.tiers]
    slots = override_slots(emitter.checked.policy)
    for number in range(0, len(slots), 2):
        normal, missing = slots[number], slots[number + 1]
        code, nullable = emitter.expr(normal.override.condition)
        keyword = "if" if number == 0 else "elif"
        lines.append(f"{keyword} (v{number} := {code}):")
        lines += _apply(number, normal.effect, tier_names)
        if nullable and missing.effect.kind != "skip":
            lines.append(f"elif v{number} is None:")
            lines += _apply(number + 1, missing.effect, tier_names)
    return lines


def _apply(slot: int, effect: ast.Effect, tier_names: list[str]) -> list[str]:
    lines = [f"    X = {slot}"]
    if effect.kind == "exclude":
        lines.append("    E = True")
    elif effect.kind == "tier":
        lines.append(f"    T = {tier_names.index(effect.tier or '')}")
    return lines


def _routes(emitter: _Emitter) -> list[str]:
    """`R` lists the routes that fire; excluded accounts are never routed."""
    routes = emitter.checked.policy.routes
    if routes is None:
        return ["R = ()"]
    lines = ["if E:", "    R = ()"]
    fallback = None
    if routes.mode == "first":
        for index, route in enumerate(routes.routes):
            if route.condition is None:
                fallback = index
                continue
            code, _ = emitter.expr(route.condition)
            lines += [f"elif {code}:", f"    R = ({index},)"]
        lines += [
            "else:",
            f"    R = ({fallback},)" if fallback is not None else "    R = ()",
        ]
        return lines
    lines += ["else:", "    R = []"]
    for index, route in enumerate(routes.routes):
        if route.condition is None:
            fallback = index
            continue
        code, _ = emitter.expr(route.condition)
        lines += [f"    if {code}:", f"        R.append({index})"]
    if fallback is not None:
        lines += ["    if not R:", f"        R.append({fallback})"]
    return [*lines, "    R = tuple(R)"]
