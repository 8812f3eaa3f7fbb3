"""A checked policy to one SQL query, so accounts are graded where they live.

`compile_query` turns a `CheckedPolicy` and an as-of into one SQLAlchemy Core
`Select` over a table of accounts. The query has four steps, each a CTE:

1. `facts`: each fact read from its column with the policy's missing rules
   (NULL, empty after trimming, `no value` spellings are missing; defaults via
   COALESCE) and `problems`, the reasons a value cannot be read;
2. `conditions`: every branch and override condition, in three values: SQL's
   NULL is tierwise's unknown, and SQL's AND, OR and NOT follow Kleene's
   rules as tierwise's do;
3. `outcomes`: per criterion the branch taken (CASE, first true branch wins;
   `missing` when none is true and one was unknown), and the override slot
   that fired (first fires wins; `missing =>` effects fire on NULL);
4. `scored`: per criterion its contribution in integer *units* of
   10^-scale, a scale fixed at compile time from the policy's numbers, so the
   score is an exact integer sum on every database and tier thresholds are
   compared in the same units.

The final select returns `id`, `tier` (the override's tier when one forces
it; NULL when excluded or rejected), `score` (exact decimal), `excluded`,
`rejected`, `reason` (the override's or the reading problems), one
`points_<criterion>` column (its contribution; the columns add up to the
score) and `branch_<criterion>` (the branch number, as `GradeResult`
outcomes count them) per criterion, `policy_hash` and `as_of`.

Routes are not compiled: they decide actions, which the SQL path does not
produce; the tier an override forces is in the result. Every literal of the
policy is a bound parameter and every identifier is quoted by SQLAlchemy.
Dates for `within` are computed here from the as-of (`runtime.shift`) and
bound; what is spelled differently per database comes from
`tierwise.engine.sql_dialects`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from tierwise.dsl import ast
from tierwise.dsl import types as ty
from tierwise.dsl.check import CheckedPolicy
from tierwise.dsl.errors import TierwiseError
from tierwise.dsl.typecheck import normalize_text, text_key
from tierwise.dsl.types import FALSE_WORDS, TRUE_WORDS
from tierwise.engine import runtime
from tierwise.engine.coerce import make_coercer, time_zone
from tierwise.engine.compile import contributions, override_slots
from tierwise.engine.policy import AsOf
from tierwise.engine.sql_dialects import CE, Dialect, ws_class

# The largest score, in units, that every database adds up exactly.
MAX_UNITS = 2**62


@dataclass(frozen=True)
class CompiledQuery:
    """The query and how to read its columns."""

    select: sa.Select[Any]
    scale: int  # the score's decimal places
    points: dict[str, str]  # criterion name -> its points column
    branches: dict[str, str]  # criterion name -> its branch column
    unread_columns: tuple[str, ...]  # facts with no column in the table
    as_of_label: str = ""
    record: RecordColumns | None = None  # with `record=True`


@dataclass(frozen=True)
class RecordColumns:
    """The extra columns a recorded run reads (see `compile_query`)."""

    inputs: tuple[str, ...]  # the source table's columns, `input_<n>` in order
    facts: tuple[str | None, ...]  # per fact: the column it reads, or None
    # `problem_<n>` and `missing_<n>` per fact; `slot` and `routes` per row


@dataclass
class _Emitter:
    """Compiles expressions; each returns (SQL, nullable), as compile.py does."""

    checked: CheckedPolicy
    dialect: Dialect
    facts: dict[str, tuple[CE, bool]]
    as_of: AsOf
    tz: dt.tzinfo
    tz_name: str
    keys: dict[str, CE] = field(default_factory=dict)  # list fact -> its item keys
    tier: CE | None = None  # the tier's name, for routes

    def expr(self, node: ast.Expr) -> tuple[CE, bool]:  # noqa: C901 - one case per node
        match node:
            case ast.Literal(value=value):
                return self._literal(value), False
            case ast.Name(name=name):
                return self._name(name)
            case ast.Negate(operand=operand):
                value, nullable = self.expr(operand)
                return self.dialect.negate(value), nullable
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
                return self._is_missing(operand, negated), False
            case ast.Within():
                return self._within(node)
            case ast.TierIs(tiers=names) if self.tier is not None:
                return self.tier.in_([self.dialect.literal(n) for n in names]), False
            case ast.Not(operand=operand):
                value, nullable = self.expr(operand)
                return sa.not_(value), nullable
            case ast.And(operands=ops) | ast.Or(operands=ops):
                parts = [self.expr(op) for op in ops]
                join = sa.and_ if isinstance(node, ast.And) else sa.or_
                return join(*(p for p, _ in parts)), any(n for _, n in parts)
        raise TierwiseError(f"'{type(node).__name__}' cannot be graded in SQL here")

    # ---- names and literals --------------------------------------------------

    def _literal(self, value: Any) -> CE:
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=self.tz)  # read in the policy's zone
        return self.dialect.literal(value)

    def _name(self, name: str) -> tuple[CE, bool]:
        scope = self.checked.scope
        if name in scope.constants:
            return self._literal(scope.constants[name].value.value), False
        return self.facts[name]

    def _family(self, node: ast.Expr) -> str:
        return self.checked.type_of(node).family

    def _exact(self, node: ast.Expr) -> bool:
        if isinstance(node, ast.Name) and node.name in self.checked.scope.facts:
            return self.checked.scope.facts[node.name].exact
        return False

    def _constant(self, node: ast.Expr) -> Any:
        if isinstance(node, ast.Literal):
            return node.value
        if isinstance(node, ast.Name) and node.name in self.checked.scope.constants:
            return self.checked.scope.constants[node.name].value.value
        return None

    # ---- numbers and dates ---------------------------------------------------

    def _arithmetic(self, node: ast.Arithmetic) -> tuple[CE, bool]:
        (left, a), (right, b) = self.expr(node.left), self.expr(node.right)
        value = self.dialect.arithmetic(node.op, left, right)
        return value, a or b or node.op == "/"

    def _local_day(self, node: ast.Expr) -> tuple[CE, bool]:
        value, nullable = self.expr(node)
        if self._family(node) == "datetime":
            return self.dialect.local_date(value, self.tz_name), nullable
        return value, nullable

    def _days_between(self, node: ast.DaysBetween) -> tuple[CE, bool]:
        day, nullable = self._local_day(node.operand)
        today = self.dialect.literal(self.as_of.today)
        early, late = (day, today) if node.direction == "since" else (today, day)
        if node.unit == "days":
            return self.dialect.days_between(early, late), nullable
        return self._whole_years(early, late, node.direction), nullable

    def _whole_years(self, early: CE, late: CE, direction: str) -> CE:
        """Whole years from `early` to `late`, as a birthday counts age."""
        d = self.dialect
        ey, em, ed = (d.date_part(early, p) for p in ("year", "month", "day"))
        ly, lm, ld = (d.date_part(late, p) for p in ("year", "month", "day"))
        before = sa.or_(lm < em, sa.and_(lm == em, ld < ed))
        years = ly - ey - sa.case((before, 1), else_=0)
        return d.whole(years)

    def _as_datetime(self, node: ast.Expr) -> tuple[CE, bool]:
        """A date compared with a date and time stands for its local midnight."""
        if self._family(node) == "datetime":
            return self.expr(node)
        value = self._constant(node)
        if isinstance(value, dt.date):
            midnight = dt.datetime.combine(value, dt.time(), self.tz)
            return self.dialect.literal(midnight), False
        day, nullable = self.expr(node)
        return self.dialect.local_midnight(day, self.tz_name), nullable

    def _within(self, node: ast.Within) -> tuple[CE, bool]:
        temporal = self._family(node.operand)
        anchor = self.as_of.today if temporal == "date" else self.as_of.now
        sign = -1 if node.direction == "past" else 1
        edge = runtime.shift(anchor, sign * node.amount, node.unit)
        low, high = (edge, anchor) if sign < 0 else (anchor, edge)
        value, nullable = self.expr(node.operand)
        d = self.dialect
        return value.between(d.literal(low), d.literal(high)), nullable

    # ---- comparisons -----------------------------------------------------------

    def _comparable(self, node: ast.Expr, other: ast.Expr) -> tuple[CE, bool]:
        mine, theirs = self._family(node), self._family(other)
        if "text" in (mine, theirs):
            value = self._constant(node)
            if isinstance(value, str):
                exact = self._exact(node) or self._exact(other)
                return self.dialect.literal(text_key(value, exact)), False
            return self.expr(node)
        if {mine, theirs} == {"date", "datetime"}:
            return self._as_datetime(node)
        return self.expr(node)

    def _compare(self, node: ast.Compare) -> tuple[CE, bool]:
        if self._family(node.left) == "list":
            raise self.dialect.unsupported("comparing two lists with '='")
        left, a = self._comparable(node.left, node.right)
        right, b = self._comparable(node.right, node.left)
        family = self._family(node.left)
        return self.dialect.compare(node.op, left, right, family), a or b

    def _between(
        self, operand: ast.Expr, low: ast.Expr, high: ast.Expr
    ) -> tuple[CE, bool]:
        value, a = self._comparable(operand, low)
        lo, b = self._comparable(low, operand)
        hi, c = self._comparable(high, operand)
        family = self._family(operand)
        d = self.dialect
        inside = sa.and_(
            d.compare("<=", lo, value, family), d.compare("<=", value, hi, family)
        )
        if b or c:  # an unknown bound makes the whole test unknown
            unknown = sa.or_(value.is_(None), lo.is_(None), hi.is_(None))
            inside = sa.case((unknown, sa.null()), else_=inside)
        return inside, a or b or c

    def _items(self, operand: ast.Expr, collection: ast.Collection | None) -> list[Any]:
        if isinstance(collection, ast.SetRef):
            items = [i.value for i in self.checked.scope.sets[collection.name].items]
        else:
            assert collection is not None
            items = [item.value for item in collection.items]
        if self._family(operand) in ("text", "list"):
            exact = self._exact(operand)
            return [text_key(str(i), exact) for i in items]
        return items

    def _in(self, node: ast.In) -> tuple[CE, bool]:
        value, nullable = self.expr(node.operand)
        items = self._items(node.operand, node.collection)
        family = self._family(node.operand)
        if family in ("date", "datetime") and _mixes_dates(family, items):
            # Python's date and datetime are never equal: nothing matches.
            found: CE = sa.literal(node.negated, sa.Boolean())
            return sa.case((value.is_(None), sa.null()), else_=found), nullable
        literals = [self._literal(i) for i in items]
        test = value.not_in(literals) if node.negated else value.in_(literals)
        return test, nullable

    def _contains(self, node: ast.Contains) -> tuple[CE, bool]:
        container, nullable = self.expr(node.operand)
        exact = self._exact(node.operand)
        if node.mode == "one":
            assert node.item is not None
            item, item_nullable = self._comparable(node.item, node.operand)
            if self._family(node.operand) == "text":
                found = self.dialect.text_contains(container, item)
                return found, nullable or item_nullable
            found = self._list_has(node.operand, container, item, exact)
            return self._guard(found, container, nullable), nullable or item_nullable
        keys = {k for k in self._items(node.operand, node.collection)}
        found = self._list_keys(node, container, exact, keys)
        return self._guard(found, container, nullable), nullable

    def _list_has(self, operand: ast.Expr, items: CE, item: CE, exact: bool) -> CE:
        fact = self.checked.scope.facts[getattr(operand, "name", "")]
        if isinstance(item.type, sa.Text) and self._constant_text(item) == "":
            return sa.false()
        if fact.name in self.keys:
            return self.dialect.keys_have(self.keys[fact.name], item)
        return self.dialect.list_has(items, fact.split_on or ",", exact, item)

    @staticmethod
    def _constant_text(item: CE) -> Any:
        return getattr(item, "value", None)

    def _list_keys(
        self, node: ast.Contains, items: CE, exact: bool, keys: set[str]
    ) -> CE:
        fact = self.checked.scope.facts[getattr(node.operand, "name", "")]
        separator = fact.split_on or ","
        wanted = sorted(keys - {""})
        found = self.keys.get(fact.name)
        if node.mode == "all":
            if "" in keys:
                return sa.false()  # an empty item is never in a list
            if found is not None and wanted:
                return self.dialect.keys_have_all(found, wanted)
            return self.dialect.list_has_all(items, separator, exact, wanted)
        if not wanted:
            return sa.false()
        if found is not None:
            return self.dialect.keys_have_any(found, wanted)
        return self.dialect.list_has_any(items, separator, exact, wanted)

    @staticmethod
    def _guard(found: CE, container: CE, nullable: bool) -> CE:
        if not nullable:
            return found
        return sa.case((container.is_(None), sa.null()), else_=found)

    def _is_missing(self, operand: ast.Expr, negated: bool) -> CE:
        value, nullable = self.expr(operand)
        if not nullable:  # a fact with a default is never missing
            return sa.true() if negated else sa.false()
        return value.is_not(None) if negated else value.is_(None)


def _mixes_dates(family: str, items: list[Any]) -> bool:
    return any(isinstance(i, dt.datetime) != (family == "datetime") for i in items)


# ---- the query ---------------------------------------------------------------------


@dataclass
class _Query:
    checked: CheckedPolicy
    dialect: Dialect
    as_of: AsOf
    policy_hash: str
    tz_name: str
    record: bool = False

    @property
    def policy(self) -> ast.Policy:
        return self.checked.policy

    def carried(self, step: Any) -> list[CE]:
        """What a recorded run carries from step to step: inputs, problems, facts."""
        if not self.record:
            return []
        return [c for c in step.c if c.name.startswith(_CARRIED)]


_CARRIED = ("input_", "problem_", "fact_", "keys_")


def compile_query(
    checked: CheckedPolicy,
    source: sa.Table,
    dialect: Dialect,
    as_of: AsOf,
    *,
    policy_hash: str,
    id_column: str | None = None,
    where: tuple[ast.Expr, CheckedPolicy] | None = None,
    record: bool = False,
) -> CompiledQuery:
    """The query that grades every row of `source` (filtered by `where`).

    `where` is a condition of the policy language and the checked policy
    that typed it (see `tierwise.engine.pushdown.parse_where`). With
    `record`, each row also carries what the audit store keeps: the source
    row (`input_<n>`), each fact's problem (`problem_<n>`, NULL when it
    reads) and whether it is missing (`missing_<n>`), the override `slot`
    and `routes`, a bit per route that matched (`1 << n`).
    """
    tz_name = checked.policy.time_zone or "UTC"
    query = _Query(checked, dialect, as_of, policy_hash, tz_name, record)
    facts, unread = _facts_cte(query, source, id_column)
    conditions = _conditions_cte(query, facts, where)
    outcomes = _outcomes_cte(query, conditions)
    scale = score_scale(checked.policy)
    scored = _scored_cte(query, outcomes, scale)
    select, points, branches = _final(query, scored, scale)
    recorded = None
    if record:
        inputs = tuple(c.name for c in source.columns)
        positions = bind_columns(query.policy.facts, list(inputs))
        read = tuple(inputs[p] if p is not None else None for p in positions)
        recorded = RecordColumns(inputs, read)
    return CompiledQuery(select, scale, points, branches, unread, as_of.label, recorded)


def _facts_cte(
    query: _Query, source: sa.Table, id_column: str | None
) -> tuple[sa.CTE, tuple[str, ...]]:
    """The reading steps and the `facts` step (see "reading facts" below)."""
    columns = {c.name: c for c in source.columns}
    if not columns:
        raise TierwiseError(f"table '{source.name}' has no columns")
    ident = query.dialect.strip(sa.cast(_id_column(source, id_column), sa.Text()))
    positions = bind_columns(query.policy.facts, list(columns))
    tz = time_zone(query.policy.time_zone)
    plans: dict[str, FactPlan] = {}
    unread: list[str] = []
    for fact, position in zip(query.policy.facts, positions):
        column = list(columns.values())[position] if position is not None else None
        if column is None:
            unread.append(fact.source or fact.name)
        plans[fact.name] = plan_fact(fact, column, query.dialect, tz, query.tz_name)
    previous: Any = None
    for number, step in enumerate(STEPS):
        added = [
            function(_cols(previous, name)).label(f"{name}__{what}")
            for name, plan in plans.items()
            for what, function in plan.steps[number].items()
        ]
        if previous is None:
            inputs = [
                c.label(f"input_{n}")
                for n, c in enumerate(source.columns)
                if query.record
            ]
            select = sa.select(ident.label("account_id"), *inputs, *added)
            select = select.select_from(source)
        elif not added:
            continue
        else:
            select = sa.select(*previous.c, *added)
        previous = query.dialect.step(select, step)
    return _facts_step(query, previous, plans), tuple(unread)


def _cols(step: Any, fact: str) -> Cols:
    return lambda what: step.c[f"{fact}__{what}"]


def _facts_step(query: _Query, step: Any, plans: dict[str, FactPlan]) -> sa.CTE:
    selected: list[CE] = [step.c.account_id, *query.carried(step)]
    problems: list[CE] = []
    facts = {f.name: f for f in query.policy.facts}
    for number, (name, plan) in enumerate(plans.items()):
        value, problem = plan.final(_cols(step, name))
        selected.append(value.label(f"fact_{name}"))
        if problem is not None:
            problems.append(problem)
        if query.record:
            known = problem if problem is not None else sa.null()
            selected.append(sa.type_coerce(known, sa.Text()).label(f"problem_{number}"))
        keys = _list_keys(query.dialect, facts[name], value, step)
        if keys is not None:
            selected.append(keys.label(f"keys_{name}"))
    joined = query.dialect.join_texts(problems) if problems else sa.null()
    selected.append(sa.type_coerce(joined, sa.Text()).label("problems"))
    return query.dialect.step(sa.select(*selected).select_from(step), "facts")


def _list_keys(d: Dialect, fact: ast.FactDecl, value: CE, step: Any) -> CE | None:
    """The keys of a list fact's items, where the dialect keeps them."""
    if fact.kind != "list":
        return None
    keys = d.list_keys(value, fact.split_on or ",", fact.exact)
    read = step.c.get(f"{fact.name}__keys")
    if keys is None or read is None:
        return keys
    # The value is the column's text, keyed already, unless a default took over.
    same = step.c[f"{fact.name}__raw"].is_not_distinct_from(value)
    return sa.case((same, read), else_=keys)


def _id_column(source: sa.Table, id_column: str | None) -> sa.Column[Any]:
    if id_column is None:
        return list(source.columns)[0]
    if id_column not in source.columns:
        names = ", ".join(c.name for c in source.columns)
        raise TierwiseError(
            f"no column '{id_column}' in table '{source.name}' (it has {names})"
        )
    return source.columns[id_column]


def bind_columns(
    facts: Sequence[ast.FactDecl], header: Sequence[str]
) -> list[int | None]:
    """Which column each fact reads, by the rules of `CompiledPolicy.bind`."""
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


def _emitter(query: _Query, checked: CheckedPolicy, facts: sa.CTE) -> _Emitter:
    columns = {
        f.name: (facts.c[f"fact_{f.name}"], f.default is None)
        for f in query.policy.facts
    }
    keys = {
        f.name: facts.c[f"keys_{f.name}"]
        for f in query.policy.facts
        if f"keys_{f.name}" in facts.c
    }
    tz = time_zone(query.policy.time_zone)
    return _Emitter(
        checked, query.dialect, columns, query.as_of, tz, query.tz_name, keys
    )


def _conditions_cte(
    query: _Query, facts: sa.CTE, where: tuple[ast.Expr, CheckedPolicy] | None
) -> sa.CTE:
    emitter = _emitter(query, query.checked, facts)
    selected: list[CE] = [facts.c.account_id, facts.c.problems]
    selected += query.carried(facts)
    for i, criterion in enumerate(query.policy.criteria):
        for j, branch in enumerate(_whens(criterion)):
            assert branch.condition is not None
            value, _ = emitter.expr(branch.condition)
            selected.append(value.label(f"c{i}_{j}"))
    for j, override in enumerate(query.policy.overrides):
        value, _ = emitter.expr(override.condition)
        selected.append(value.label(f"v{j}"))
    select = sa.select(*selected).select_from(facts)
    if where is not None:
        condition, typed = where
        value, _ = _emitter(query, typed, facts).expr(condition)
        # Rows the filter cannot decide because a value is unreadable stay,
        # to be reported as rejected.
        undecided = sa.and_(facts.c.problems.is_not(None), value.is_(None))
        select = select.where(sa.or_(value, undecided))
    return query.dialect.step(select, "conditions")


def _whens(criterion: ast.Criterion) -> list[ast.Branch]:
    return [b for b in criterion.branches if b.kind == "when"]


def _nullable_conditions(query: _Query) -> tuple[list[list[bool]], list[bool]]:
    emitter = _Emitter(query.checked, query.dialect, {}, query.as_of, dt.UTC, "UTC")
    emitter.facts = _NullableFacts(query.policy)  # type: ignore[assignment]
    criteria = [
        [emitter.expr(b.condition)[1] for b in _whens(c)]  # type: ignore[arg-type]
        for c in query.policy.criteria
    ]
    overrides = [emitter.expr(o.condition)[1] for o in query.policy.overrides]
    return criteria, overrides


class _NullableFacts(dict[str, tuple[CE, bool]]):
    """Stand-in fact columns, for finding which conditions can be unknown."""

    def __init__(self, policy: ast.Policy):
        super().__init__(
            (f.name, (sa.column(f"fact_{f.name}"), f.default is None))
            for f in policy.facts
        )


def _outcomes_cte(query: _Query, conditions: sa.CTE) -> sa.CTE:
    criteria_nullable, overrides_nullable = _nullable_conditions(query)
    selected: list[CE] = [conditions.c.account_id, conditions.c.problems]
    selected += query.carried(conditions)
    for i, criterion in enumerate(query.policy.criteria):
        whens = _whens(criterion)
        otherwise, missing = len(whens), len(whens) + 1
        cases: list[tuple[Any, int]] = [
            (conditions.c[f"c{i}_{j}"], j) for j in range(len(whens))
        ]
        unknown = [
            conditions.c[f"c{i}_{j}"].is_(None)
            for j, nullable in enumerate(criteria_nullable[i])
            if nullable
        ]
        if unknown:
            cases.append((sa.or_(*unknown), missing))
        outcome = sa.case(*cases, else_=otherwise) if cases else sa.literal(otherwise)
        selected.append(outcome.label(f"o{i}"))
    selected.append(_slot(query, conditions, overrides_nullable).label("slot"))
    return query.dialect.step(sa.select(*selected).select_from(conditions), "outcomes")


def _slot(query: _Query, conditions: sa.CTE, nullable: list[bool]) -> CE:
    """Which override slot fired: 2j for override j, 2j+1 for its missing effect."""
    cases: list[tuple[Any, int]] = []
    for j, override in enumerate(query.policy.overrides):
        fired = conditions.c[f"v{j}"]
        cases.append((fired, 2 * j))
        if nullable[j] and override.on_missing.kind != "skip":
            cases.append((fired.is_(None), 2 * j + 1))
    return sa.case(*cases, else_=-1) if cases else sa.literal(-1)


def score_scale(policy: ast.Policy) -> int:
    """Decimal places that hold every contribution and threshold exactly."""
    values = [v for c in policy.criteria for v in contributions(c)]
    values += [t.threshold for t in policy.tiers]
    return max((_places(v) for v in values), default=0)


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def units(value: Decimal, scale: int) -> int:
    scaled = value.scaleb(scale)
    if scaled != scaled.to_integral_value() or abs(scaled) > MAX_UNITS:
        raise TierwiseError(f"the number {value} does not fit the exact score units")
    return int(scaled)


def _scored_cte(query: _Query, outcomes: sa.CTE, scale: int) -> sa.CTE:
    selected: list[CE] = [outcomes.c.account_id, outcomes.c.problems, outcomes.c.slot]
    selected += query.carried(outcomes)
    total = 0
    for i, criterion in enumerate(query.policy.criteria):
        shares = [units(c, scale) for c in contributions(criterion)]
        total += max(abs(s) for s in shares)
        whens = {n: sa.literal(s, sa.BigInteger()) for n, s in enumerate(shares)}
        selected.append(outcomes.c[f"o{i}"])
        selected.append(sa.case(whens, value=outcomes.c[f"o{i}"]).label(f"u{i}"))
    if total > MAX_UNITS:
        raise TierwiseError(
            "the policy's scores are too large to add up exactly in SQL"
        )
    return query.dialect.step(sa.select(*selected).select_from(outcomes), "scored")


def _final(
    query: _Query, scored: sa.CTE, scale: int
) -> tuple[sa.Select[Any], dict[str, str], dict[str, str]]:
    d = query.dialect
    criteria = query.policy.criteria
    total = sum((scored.c[f"u{i}"] for i in range(len(criteria))), sa.literal(0))
    rejected = scored.c.problems.is_not(None)
    excluded_slots = _slots_where(query, lambda e: e.kind == "exclude")
    excluded = sa.and_(~rejected, scored.c.slot.in_(excluded_slots))
    names = column_names([c.name for c in criteria])
    points, branches = {}, {}
    columns: list[CE] = [
        scored.c.account_id.label("id"),
        _tier(query, scored, total, rejected, excluded).label("tier"),
        sa.case((rejected, sa.null()), else_=d.decimal_from_units(total, scale)).label(
            "score"
        ),
        _flag(excluded).label("excluded"),
        _flag(rejected).label("rejected"),
        _reason(query, scored).label("reason"),
    ]
    for i, (criterion, slug) in enumerate(zip(criteria, names)):
        points[criterion.name] = f"points_{slug}"
        branches[criterion.name] = f"branch_{slug}"
        share = d.decimal_from_units(scored.c[f"u{i}"], scale)
        columns.append(
            sa.case((rejected, sa.null()), else_=share).label(f"points_{slug}")
        )
        columns.append(scored.c[f"o{i}"].label(f"branch_{slug}"))
    columns.append(d.literal(query.policy_hash).label("policy_hash"))
    columns.append(d.literal(query.as_of.label).label("as_of"))
    if query.record:
        tier = _tier(query, scored, total, rejected, excluded)
        columns += _recorded(query, scored, tier, sa.or_(rejected, excluded))
    return sa.select(*columns).select_from(scored), points, branches


def _recorded(query: _Query, scored: sa.CTE, tier: CE, unrouted: CE) -> list[CE]:
    """The columns only a recorded run reads (see `compile_query`)."""
    columns = [c for c in query.carried(scored) if c.name.startswith("input_")]
    for number, fact in enumerate(query.policy.facts):
        columns.append(scored.c[f"problem_{number}"])
        missing = _flag(scored.c[f"fact_{fact.name}"].is_(None))
        columns.append(missing.label(f"missing_{number}"))
    columns.append(scored.c.slot)
    emitter = _emitter(query, query.checked, scored)
    emitter.tier = tier
    routes = _routes(emitter, query.policy.routes)
    columns.append(sa.case((unrouted, 0), else_=routes).label("routes"))
    return columns


def _routes(emitter: _Emitter, routes: ast.Routes | None) -> CE:
    """A bit per matching route, as `compile._routes` lists them."""
    if routes is None:
        return sa.literal(0, sa.BigInteger())
    if len(routes.routes) > 62:
        raise TierwiseError("more than 62 routes cannot be recorded from SQL")
    bits = [sa.literal(1 << n, sa.BigInteger()) for n in range(len(routes.routes))]
    fallback = next(
        (bits[n] for n, r in enumerate(routes.routes) if r.condition is None),
        sa.literal(0, sa.BigInteger()),
    )
    tests = [
        (emitter.expr(r.condition)[0], bits[n])
        for n, r in enumerate(routes.routes)
        if r.condition is not None
    ]
    if not tests:
        return fallback
    if routes.mode == "first":  # an unknown condition does not match
        return sa.case(*tests, else_=fallback)
    matched = sum((sa.case((test, bit), else_=0) for test, bit in tests), sa.literal(0))
    return sa.case((matched == 0, fallback), else_=matched)


def _flag(condition: CE) -> CE:
    return sa.case((condition, sa.true()), else_=sa.false())


def _slots_where(query: _Query, test: Any) -> list[int]:
    return [n for n, s in enumerate(override_slots(query.policy)) if test(s.effect)]


def _tier(query: _Query, scored: sa.CTE, total: CE, rejected: CE, excluded: CE) -> CE:
    d = query.dialect
    tiers = query.policy.tiers
    scale = score_scale(query.policy)
    cases: list[tuple[CE, CE]] = [(sa.or_(rejected, excluded), sa.null())]
    for number, slot in enumerate(override_slots(query.policy)):
        if slot.effect.kind == "tier":
            cases.append((scored.c.slot == number, d.literal(slot.effect.tier or "")))
    for tier in tiers[:-1]:
        threshold = sa.literal(units(tier.threshold, scale), sa.BigInteger())
        cases.append((total >= threshold, d.literal(tier.name)))
    return sa.case(*cases, else_=d.literal(tiers[-1].name))


def _reason(query: _Query, scored: sa.CTE) -> CE:
    d = query.dialect
    cases: list[tuple[CE, CE]] = [(scored.c.problems.is_not(None), scored.c.problems)]
    for number, slot in enumerate(override_slots(query.policy)):
        if slot.effect.kind == "skip":
            continue
        what = (
            "excluded" if slot.effect.kind == "exclude" else f"tier {slot.effect.tier}"
        )
        text = f"{what} by '{slot.override.name}': {slot.effect.reason or ''}"
        cases.append((scored.c.slot == number, d.literal(text)))
    return sa.case(*cases, else_=sa.null())


def column_names(criteria: Sequence[str]) -> list[str]:
    """Safe, unique column suffixes for criterion names.

    Case-folded, accents dropped, every run of other characters one `_`, at
    most 48 characters (PostgreSQL keeps 63); a repeated name gets `_2`, `_3`.
    """
    names: list[str] = []
    for name in criteria:
        plain = unicodedata.normalize("NFKD", name.casefold())
        plain = "".join(c for c in plain if not unicodedata.combining(c))
        slug = re.sub(r"[^a-z0-9]+", "_", plain).strip("_")[:48] or "criterion"
        candidate, count = slug, 1
        while candidate in names:
            count += 1
            candidate = f"{slug}_{count}"
        names.append(candidate)
    return names


# ---- reading facts -----------------------------------------------------------------
#
# A fact read from text goes through up to four steps before the `facts` step,
# each a CTE that adds columns named `<fact>__<what>` and keeps the earlier
# ones, so that no expression is written twice: `raw` (the text, stripped,
# its key), `cleaned` (a number's text without currency or separators; a
# date's shape), `parsed` (the number; a date's year, month and day) and
# `checked` (whether a date is real). Every regular expression is anchored at
# both ends: a dialect may test it as a full match or as a search.

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
        if d.list_keys(sa.null(), split, fact.exact) is not None:
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
        places = rf"^[+-]?[0-9]*\.[0-9]{{{d.number_scale}}}[0-9]*[1-9][0-9]*$"
        return ~d.matches(text, places)
    size = sa.func.abs(number)
    small, large = d.number(Decimal("1e-40")), d.number(Decimal("1e41"))
    return sa.or_(number == d.number(0), sa.and_(size >= small, size < large))


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
        return lambda raw: _typed_number(whole, fits, raw, d, prefix)
    if family == "numeric" and kind == "bool":
        return lambda raw: (d.null("numeric"), _typed_yes_no_number(raw, prefix))
    if fact.kind == "bool" and kind == "bool":
        return lambda raw: (raw, None)
    if fact.kind == "bool" and kind == "integer":
        return lambda raw: _typed_bool(raw, prefix)
    if fact.kind == "date" and kind in ("date", "timestamp", "timestamptz"):
        return lambda raw: (_typed_date(raw, kind, d, tz_name), None)
    if fact.kind == "datetime" and kind in ("date", "timestamp", "timestamptz"):
        return lambda raw: (_typed_instant(raw, kind, d, tz_name), None)
    return None


def _typed_number(
    whole: bool, fits: bool, raw: CE, d: Dialect, prefix: CE
) -> tuple[CE, CE | None]:
    number = d.number_from_column(raw)
    if fits and not whole:
        return number, None
    shown = _quoted(sa.cast(raw, sa.Text()))
    too_big = sa.and_(raw.is_not(None), number.is_(None))
    whens = [(too_big, prefix + shown + _lit(_out_of_range(d)))]
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
