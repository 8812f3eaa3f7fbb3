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

Routes are compiled only for a run recorded in the audit store
(`record=True`, which adds the columns `tierwise.engine.sql_record` reads):
they decide actions, which only the store fires. Every literal of the policy
is a bound parameter and every identifier is quoted by SQLAlchemy.

How each fact is read is in `tierwise.engine.sql_facts`, how each condition
is written in `tierwise.engine.sql_conditions` (dates for `within` computed
from the as-of and bound), and what is spelled differently per database in
`tierwise.engine.sql_dialects`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from tierwise.dsl import ast
from tierwise.dsl.check import CheckedPolicy
from tierwise.dsl.errors import TierwiseError
from tierwise.engine.coerce import bind_facts, time_zone
from tierwise.engine.compile import contributions, override_slots, score_scale
from tierwise.engine.policy import AsOf
from tierwise.engine.sql_conditions import Emitter
from tierwise.engine.sql_dialects import CE, Dialect
from tierwise.engine.sql_facts import STEPS, Cols, FactPlan, column_kind, plan_fact

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
        positions = bind_facts(query.policy.facts, list(inputs))
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
    positions = bind_facts(query.policy.facts, list(columns))
    if query.policy.facts and all(p is None for p in positions):
        wanted = ", ".join(f"'{f.source or f.name}'" for f in query.policy.facts)
        raise TierwiseError(
            f"table '{source.name}' has none of the columns the policy reads "
            f"({wanted}); is it the right table?"
        )
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
                _input_kept(c, query.dialect).label(f"input_{n}")
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
    if fact.kind != "list" or not d.keyed_lists:
        return None
    keys = d.list_keys(value, fact.split_on or ",", fact.exact)
    read = step.c.get(f"{fact.name}__keys")
    if read is None:
        return keys
    # The value is the column's text, keyed already, unless a default took over.
    same = step.c[f"{fact.name}__raw"].is_not_distinct_from(value)
    return sa.case((same, read), else_=keys)


def _id_column(source: sa.Table, id_column: str | None) -> sa.Column[Any]:
    if id_column is None:
        return list(source.columns)[0]
    if id_column in source.columns:
        return source.columns[id_column]
    # Case aside, as a file's --id-column is matched (`run.bind_fields`).
    for column in source.columns:
        if column.name.casefold() == id_column.casefold():
            return column
    names = ", ".join(c.name for c in source.columns)
    raise TierwiseError(
        f"no column '{id_column}' in table '{source.name}' (it has {names})"
    )


def _input_kept(column: sa.Column[Any], d: Dialect) -> CE:
    """A column as a recorded run keeps its input: an infinite date, which
    Python has no value for, is kept as NULL (its row is rejected, and the
    reason names the value)."""
    if column_kind(column.type) in ("date", "timestamp", "timestamptz"):
        return sa.case((d.finite_date(column), column), else_=sa.null())
    return column


def _emitter(query: _Query, checked: CheckedPolicy, facts: sa.CTE) -> Emitter:
    columns: dict[str, tuple[CE, bool]] = {
        f.name: (facts.c[f"fact_{f.name}"], f.default is None)
        for f in query.policy.facts
    }
    keys: dict[str, CE] = {
        f.name: facts.c[f"keys_{f.name}"]
        for f in query.policy.facts
        if f"keys_{f.name}" in facts.c
    }
    tz = time_zone(query.policy.time_zone)
    return Emitter(
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
    emitter = Emitter(query.checked, query.dialect, {}, query.as_of, dt.UTC, "UTC")
    emitter.facts = _NullableFacts(query.policy)
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


def units(value: Decimal, scale: int) -> int:
    """`value` in units of 10^-scale, refused if it does not fit a BIGINT."""
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


def _routes(emitter: Emitter, routes: ast.Routes | None) -> CE:
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
