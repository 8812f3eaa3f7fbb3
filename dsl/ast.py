"""The typed syntax tree of a policy.

The parser turns source text into these frozen dataclasses; every later stage
(checks, compiler, formatter) works on them and never on Lark's parse tree.
Every node carries the `Span` of the source it came from, so any stage can
point at the exact place a problem comes from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal as Lit


@dataclass(frozen=True, order=True)
class Span:
    """A region of a policy file: 1-based lines and columns, end exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


NO_SPAN = Span(0, 0, 0, 0)

Value = Decimal | str | bool | dt.date | dt.datetime


# ---- expressions -------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: Value
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Name:
    """A reference to a fact or a constant, by name."""

    name: str
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Negate:
    operand: Expr
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Arithmetic:
    op: Lit["+", "-", "*", "/"]
    left: Expr
    right: Expr
    span: Span = field(compare=False)


@dataclass(frozen=True)
class DaysBetween:
    """`days since X`, `days until X` or `years since X`, counted from the as-of."""

    unit: Lit["days", "years"]
    direction: Lit["since", "until"]
    operand: Expr
    span: Span = field(compare=False)


@dataclass(frozen=True)
class SetRef:
    name: str
    span: Span = field(compare=False)


@dataclass(frozen=True)
class LiteralSet:
    items: tuple[Literal, ...]
    span: Span = field(compare=False)


Collection = SetRef | LiteralSet


@dataclass(frozen=True)
class Compare:
    op: Lit["=", "!=", "<", "<=", ">", ">="]
    left: Expr
    right: Expr
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Between:
    operand: Expr
    low: Expr
    high: Expr
    span: Span = field(compare=False)


@dataclass(frozen=True)
class In:
    operand: Expr
    collection: Collection
    negated: bool
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Contains:
    """`X contains Y`, or with `mode` any/all, `X contains any of <collection>`."""

    operand: Expr
    mode: Lit["one", "any", "all"]
    item: Expr | None
    collection: Collection | None
    span: Span = field(compare=False)


@dataclass(frozen=True)
class IsMissing:
    operand: Expr
    negated: bool
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Within:
    """`X within N days` (the past N days) or `X within next N days`."""

    operand: Expr
    amount: int
    unit: Lit["days", "weeks", "months", "years"]
    direction: Lit["past", "next"]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class TierIs:
    """`tier A` or `tier in A, B`; only meaningful in routes."""

    tiers: tuple[str, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Not:
    operand: Expr
    span: Span = field(compare=False)


@dataclass(frozen=True)
class And:
    operands: tuple[Expr, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Or:
    operands: tuple[Expr, ...]
    span: Span = field(compare=False)


Expr = (
    Literal
    | Name
    | Negate
    | Arithmetic
    | DaysBetween
    | Compare
    | Between
    | In
    | Contains
    | IsMissing
    | Within
    | TierIs
    | Not
    | And
    | Or
)


# ---- declarations ------------------------------------------------------------

FactKind = Lit[
    "int", "number", "money", "text", "bool", "date", "datetime", "list", "enum"
]


@dataclass(frozen=True)
class FactDecl:
    name: str
    kind: FactKind
    span: Span = field(compare=False)
    enum_values: tuple[str, ...] = ()
    source: str | None = None
    default: Literal | None = None
    no_value: tuple[str, ...] = ()
    split_on: str | None = None
    date_format: str | None = None
    exact: bool = False


@dataclass(frozen=True)
class SetDecl:
    name: str
    items: tuple[Literal, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class ConstantDecl:
    name: str
    value: Literal
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Branch:
    """One line of a criterion: `condition => points`, `otherwise` or `missing`."""

    kind: Lit["when", "otherwise", "missing"]
    condition: Expr | None
    points: Decimal
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Criterion:
    name: str
    weight: Decimal
    branches: tuple[Branch, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class TierLine:
    """`NAME from X` (scores >= X) or `NAME below X` (scores < X)."""

    name: str
    bound: Lit["from", "below"]
    threshold: Decimal
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Effect:
    kind: Lit["exclude", "tier", "skip"]
    tier: str | None
    reason: str | None
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Override:
    name: str
    condition: Expr
    effect: Effect
    on_missing: Effect
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Action:
    kind: Lit["assign", "enroll", "notify", "tag"]
    target: str
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Trigger:
    """When a matching route fires: on a tier change (the default), every run,
    or when the account enters or leaves a given tier."""

    kind: Lit["change", "every_run", "entering", "leaving"]
    tier: str | None = None
    span: Span = field(default=NO_SPAN, compare=False)


ON_CHANGE = Trigger("change")


@dataclass(frozen=True)
class Route:
    condition: Expr | None  # None for `otherwise`
    actions: tuple[Action, ...]
    span: Span = field(compare=False)
    trigger: Trigger = ON_CHANGE


@dataclass(frozen=True)
class Routes:
    mode: Lit["first", "all"]
    routes: tuple[Route, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Given:
    fact: str
    value: Literal | tuple[Literal, ...] | None  # None: explicitly missing
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Expectation:
    kind: Lit["tier", "excluded", "score", "no_actions", "action"]
    tier: str | None = None
    score: Decimal | None = None
    action: Action | None = None
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True)
class TestCase:
    name: str
    as_of: dt.date | dt.datetime | None
    given: tuple[Given, ...]
    expect: tuple[Expectation, ...]
    span: Span = field(compare=False)
    as_of_span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True)
class Policy:
    name: str
    version: str
    span: Span = field(compare=False)
    description: str | None = None
    owner: str | None = None
    time_zone: str | None = None
    time_zone_span: Span = field(default=NO_SPAN, compare=False)
    description_span: Span = field(default=NO_SPAN, compare=False)
    owner_span: Span = field(default=NO_SPAN, compare=False)
    facts_span: Span = field(default=NO_SPAN, compare=False)
    tiers_span: Span = field(default=NO_SPAN, compare=False)
    facts: tuple[FactDecl, ...] = ()
    sets: tuple[SetDecl, ...] = ()
    constants: tuple[ConstantDecl, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    tiers: tuple[TierLine, ...] = ()
    overrides: tuple[Override, ...] = ()
    routes: Routes | None = None
    tests: tuple[TestCase, ...] = ()
    # A second `tiers` or `routes` block, which the checker reports.
    repeated_blocks: tuple[tuple[str, Span], ...] = field(default=(), compare=False)


def children(node: Expr) -> tuple[Expr, ...]:
    """The sub-expressions of an expression, for passes that walk conditions."""
    match node:
        case Negate(operand=o) | Not(operand=o) | IsMissing(operand=o):
            return (o,)
        case DaysBetween(operand=o) | Within(operand=o):
            return (o,)
        case Arithmetic(left=a, right=b) | Compare(left=a, right=b):
            return (a, b)
        case Between(operand=o, low=lo, high=hi):
            return (o, lo, hi)
        case In(operand=o, collection=c):
            return (o, *collection_items(c))
        case Contains(operand=o, item=i, collection=c):
            items = (i,) if i is not None else collection_items(c)
            return (o, *items)
        case And(operands=ops) | Or(operands=ops):
            return ops
    return ()


def collection_items(collection: Collection | None) -> tuple[Expr, ...]:
    return collection.items if isinstance(collection, LiteralSet) else ()


def walk(node: Expr) -> Iterator[Expr]:
    """Every expression in `node`, depth first, `node` included."""
    yield node
    for child in children(node):
        yield from walk(child)
