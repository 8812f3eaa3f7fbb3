"""Checks a policy must pass before it can grade anything.

`check` runs the passes in `PASSES` in order over one policy and returns a
`CheckedPolicy`: the tree, the type of every expression and every problem
found. A policy with no error diagnostic is safe to compile: the compiler
trusts what the checks proved and does not look again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from tierwise.dsl import ast
from tierwise.dsl import diagnostics as dg
from tierwise.dsl import types as ty
from tierwise.dsl.errors import PolicyError
from tierwise.dsl.parser import keywords, parse
from tierwise.dsl.regions import Regions, shadowed_by
from tierwise.dsl.typecheck import Scope, TypeChecker, literal_type


@dataclass
class CheckedPolicy:
    policy: ast.Policy
    scope: Scope
    types: dict[int, ty.Type] = field(default_factory=dict)
    diagnostics: list[dg.Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not dg.has_errors(self.diagnostics)

    def type_of(self, expr: ast.Expr) -> ty.Type:
        return self.types[id(expr)]


def check(policy: ast.Policy, path: str = "<policy>") -> CheckedPolicy:
    """Run every pass; the result lists all problems, in source order."""
    checked = CheckedPolicy(policy, _scope(policy))
    for check_pass in PASSES:
        check_pass(checked)
    checked.diagnostics = sorted(
        (dataclasses.replace(d, file=path) for d in checked.diagnostics),
        key=lambda d: (d.span, d.code),
    )
    return checked


def check_source(source: str, path: str = "<policy>") -> CheckedPolicy:
    """Parse and check policy text; syntax errors raise `PolicyError`."""
    return check(parse(source, path), path)


def _scope(policy: ast.Policy) -> Scope:
    fact_types = {
        f.name: ty.enum(f.enum_values) if f.kind == "enum" else ty.SIMPLE[f.kind]
        for f in policy.facts
    }
    set_types = {
        s.name: literal_type(s.items[0].value) if s.items else ty.TEXT
        for s in policy.sets
    }
    return Scope(
        facts={f.name: f for f in policy.facts},
        fact_types=fact_types,
        sets={s.name: s for s in policy.sets},
        set_types=set_types,
        constants={c.name: c for c in policy.constants},
        tiers=tuple(t.name for t in policy.tiers),
    )


# ---- header and declarations --------------------------------------------------


def check_header(checked: CheckedPolicy) -> None:
    policy = checked.policy
    if policy.time_zone is None:
        return
    try:
        zoneinfo.ZoneInfo(policy.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zones = zoneinfo.available_timezones()
        same = [z for z in zones if z.casefold() == policy.time_zone.casefold()]
        hint = (f"did you mean '{same[0]}'?",) if same else ()
        checked.diagnostics.append(
            dg.error(
                dg.BAD_TIME_ZONE,
                f"unknown time zone '{policy.time_zone}'",
                policy.time_zone_span,
                *(hint or dg.did_you_mean(policy.time_zone, zones)),
                "use an IANA name such as 'UTC', 'Europe/London' or 'America/New_York'",
            )
        )


def check_names(checked: CheckedPolicy) -> None:
    """No two facts, sets or constants share a name; criteria and tests neither."""
    policy = checked.policy
    declared: list[tuple[str, str, ast.Span]] = [
        *(("fact", f.name, f.span) for f in policy.facts),
        *(("set", s.name, s.span) for s in policy.sets),
        *(("constant", c.name, c.span) for c in policy.constants),
    ]
    checked.diagnostics += _duplicates(declared, "name")
    for fact in policy.facts:
        if fact.name in keywords() and not _usable_as_name(fact.name):
            checked.diagnostics.append(
                dg.error(
                    dg.RESERVED_NAME,
                    f"'{fact.name}' is a word of the policy language, not a fact name",
                    fact.span,
                    f"rename it, for example '{fact.name}_value', and keep "
                    f'from "{fact.source or fact.name}"',
                )
            )
    for kind, span in policy.repeated_blocks:
        checked.diagnostics.append(
            dg.error(
                dg.DUPLICATE_NAME,
                f"a second '{kind}' block",
                span,
                f"a policy has one '{kind}' block; merge the two",
            )
        )
    checked.diagnostics += _duplicates(
        [("criterion", c.name, c.span) for c in policy.criteria], "criterion"
    )
    checked.diagnostics += _duplicates(
        [("tier", t.name, t.span) for t in policy.tiers], "tier"
    )
    checked.diagnostics += _duplicates(
        [("override", o.name, o.span) for o in policy.overrides], "override"
    )
    checked.diagnostics += _duplicates(
        [("test", t.name, t.span) for t in policy.tests], "test"
    )


@functools.cache
def _usable_as_name(word: str) -> bool:
    """Whether a keyword still reads as a fact name wherever facts are used.

    Most keywords only mean something in one spot (`since` after `days`), so
    a fact may take their name; a few (`tier`, `not`, `days`) would be read
    as the keyword where a fact is expected.
    """
    n = word
    probe = (
        f'policy "p" version 1\ncriterion "c" weight 1\n'
        f"  {n} > 1 and {n} in s and not {n} and days since {n} > 1 => 1\n"
        f'override "o"\n  when {n} = 1 => exclude, reason "r"\n'
        f'routes\n  {n} = 1 => tag "t"\n'
        f'test "t"\n  given {n} 1\n  expect tier A\n'
    )
    try:
        parse(probe)
    except PolicyError:
        return False
    return True


def _duplicates(
    items: list[tuple[str, str, ast.Span]], what: str
) -> Iterable[dg.Diagnostic]:
    first: dict[str, tuple[str, ast.Span]] = {}
    for kind, name, span in items:
        if name in first:
            earlier_kind, earlier = first[name]
            yield dg.error(
                dg.DUPLICATE_NAME,
                f"{kind} '{name}' is declared twice",
                span,
                f"the {earlier_kind} '{name}' is declared on line {earlier.line}",
            )
        else:
            first[name] = (kind, span)


def check_facts(checked: CheckedPolicy) -> None:
    for fact in checked.policy.facts:
        checked.diagnostics += _fact_problems(fact, checked.scope.fact_types[fact.name])
    for declared in checked.policy.sets:
        families = {literal_type(item.value).family for item in declared.items}
        if len(families) > 1:
            checked.diagnostics.append(
                dg.error(
                    dg.TYPE_MISMATCH,
                    f"set '{declared.name}' mixes "
                    + " and ".join(sorted(ty.describe_family(f) for f in families)),
                    declared.span,
                )
            )


def _fact_problems(fact: ast.FactDecl, fact_type: ty.Type) -> Iterable[dg.Diagnostic]:
    kind = fact.kind
    if fact.split_on is not None and kind != "list":
        yield dg.error(
            dg.MISPLACED,
            f"'split on' only applies to a list of text, and '{fact.name}' is "
            f"{fact_type}",
            fact.span,
        )
    if fact.date_format is not None and kind not in ("date", "datetime"):
        yield dg.error(
            dg.MISPLACED,
            f"'format' only applies to dates, and '{fact.name}' is {fact_type}",
            fact.span,
        )
    if fact.split_on == "":
        yield dg.error(dg.BAD_VALUE, "'split on' needs a separator", fact.span)
    if fact.date_format is not None and not _date_format_works(fact.date_format):
        yield dg.error(
            dg.BAD_VALUE,
            f"'{fact.date_format}' is not a date format that reads back what it writes",
            fact.span,
            "use strftime codes for at least the year, e.g. '%m/%d/%Y' or '%Y'",
        )
    if fact.exact and kind not in ("text", "list"):
        yield dg.error(
            dg.MISPLACED,
            f"'compared exactly' only applies to text, and '{fact.name}' is "
            f"{fact_type}",
            fact.span,
        )
    if kind == "enum" and len(set(fact.enum_values)) != len(fact.enum_values):
        yield dg.error(
            dg.DUPLICATE_NAME, f"'{fact.name}' lists a value twice", fact.span
        )
    if fact.default is not None and not _default_fits(fact, fact.default.value):
        have = literal_type(fact.default.value)
        yield dg.error(
            dg.TYPE_MISMATCH,
            f"have {have}, want {fact_type}: the default of '{fact.name}' "
            f"must be a value of its type",
            fact.default.span,
        )


def _date_format_works(fmt: str) -> bool:
    """A format must read back what it writes, and say at least the year.

    A format without a month or day (`%Y`) reads the first of the year.
    """
    if not any(code in fmt for code in ("%Y", "%y", "%G")):
        return False
    sample = dt.datetime(2031, 11, 23, 14, 35, 51)
    try:
        read = dt.datetime.strptime(sample.strftime(fmt), fmt)
    except ValueError:
        return False
    return read.year == sample.year


def _default_fits(fact: ast.FactDecl, value: ast.Value) -> bool:
    from tierwise.dsl.typecheck import normalize_text

    family = ty.SIMPLE.get(fact.kind, ty.TEXT).family
    if fact.kind == "enum":
        allowed = {normalize_text(v) for v in fact.enum_values}
        return isinstance(value, str) and normalize_text(value) in allowed
    if fact.kind == "int":
        return isinstance(value, Decimal) and value == value.to_integral_value()
    if fact.kind == "list":
        return isinstance(value, str)
    return literal_type(value).family == family or (
        family == "datetime" and literal_type(value).family == "date"
    )


# ---- criteria -----------------------------------------------------------------


def check_criteria(checked: CheckedPolicy) -> None:
    policy = checked.policy
    if not policy.criteria:
        checked.diagnostics.append(
            dg.error(
                dg.MISSING_SECTION,
                "the policy has no criterion, so every score would be 0",
                policy.span,
            )
        )
        return
    types = TypeChecker(checked.scope, checked.types)
    for criterion in policy.criteria:
        for branch in criterion.branches:
            if branch.condition is not None:
                types.condition(branch.condition)
        checked.diagnostics += _branch_layout(criterion)
    checked.diagnostics += types.found
    total = sum((c.weight for c in policy.criteria), Decimal(0))
    if total != 100:
        checked.diagnostics.append(
            dg.warning(
                dg.WEIGHTS_NOT_100,
                f"weights add up to {total}, not 100",
                policy.criteria[0].span,
                "with weights adding to 100 and points from 0 to 100 the score "
                "runs from 0 to 100",
            )
        )


def _branch_layout(criterion: ast.Criterion) -> Iterable[dg.Diagnostic]:
    """`otherwise` and `missing` come once each, after the conditions."""
    counts = Counter(b.kind for b in criterion.branches)
    seen_final = False
    for branch in criterion.branches:
        if branch.kind == "when" and seen_final:
            yield dg.error(
                dg.MISPLACED,
                f"in criterion '{criterion.name}', a condition follows "
                "'otherwise' or 'missing'",
                branch.span,
                "list the conditions first; 'otherwise' and 'missing' close "
                "the criterion",
            )
        seen_final = seen_final or branch.kind != "when"
    for kind in ("otherwise", "missing"):
        if counts[kind] > 1:
            second = [b for b in criterion.branches if b.kind == kind][1]
            yield dg.error(
                dg.DUPLICATE_BRANCH,
                f"criterion '{criterion.name}' has {counts[kind]} '{kind}' branches",
                second.span,
            )


def check_reachable(checked: CheckedPolicy) -> None:
    """A branch whose values are all taken by earlier branches never fires.

    Runs on policies with other errors too: a condition that misuses a name or
    a type simply has no region, so nothing is said about it here.
    """
    regions = Regions.of_scope(checked.scope)
    for criterion in checked.policy.criteria:
        earlier: list[tuple[ast.Expr, int]] = []
        for branch in criterion.branches:
            if branch.condition is None:
                continue
            cause = shadowed_by(branch.condition, earlier, regions)
            if cause is not None:
                checked.diagnostics.append(
                    dg.error(
                        dg.UNREACHABLE_BRANCH,
                        f"this branch of '{criterion.name}' can never fire",
                        branch.condition.span,
                        cause,
                    )
                )
            earlier.append((branch.condition, branch.span.line))


# ---- tiers --------------------------------------------------------------------


def check_tiers(checked: CheckedPolicy) -> None:
    policy = checked.policy
    if not policy.tiers:
        checked.diagnostics.append(
            dg.error(dg.MISSING_SECTION, "the policy has no tiers", policy.span)
        )
        return
    checked.diagnostics += _tier_order(policy.tiers)
    low, _ = score_bounds(policy)
    last = policy.tiers[-1]
    if last.bound == "from" and low < last.threshold:
        checked.diagnostics.append(
            dg.error(
                dg.TIERS_GAP,
                f"scores below {last.threshold} get no tier",
                last.span,
                f"the lowest possible score is {low}",
                f"end the tiers with a 'below {last.threshold}' tier, or "
                f"lower '{last.name}' to 'from {low}'",
            )
        )


def _tier_order(tiers: tuple[ast.TierLine, ...]) -> Iterable[dg.Diagnostic]:
    previous: ast.TierLine | None = None
    for index, tier in enumerate(tiers):
        if tier.bound == "below" and index != len(tiers) - 1:
            yield dg.error(
                dg.TIERS_UNORDERED,
                f"tier '{tier.name}' takes every score below {tier.threshold}, "
                "so it must be the last tier",
                tier.span,
            )
        if previous is not None and previous.bound == "from":
            yield from _tier_pair(previous, tier)
        previous = tier


def _tier_pair(above: ast.TierLine, tier: ast.TierLine) -> Iterable[dg.Diagnostic]:
    if tier.bound == "below":
        if tier.threshold < above.threshold:
            yield dg.error(
                dg.TIERS_GAP,
                f"scores from {tier.threshold} up to {above.threshold} get no tier",
                tier.span,
                f"'{tier.name}' covers scores below {tier.threshold} and "
                f"'{above.name}' starts at {above.threshold}",
            )
        elif tier.threshold > above.threshold:
            yield dg.error(
                dg.TIERS_OVERLAP,
                f"tier '{tier.name}' overlaps '{above.name}' from "
                f"{above.threshold} to {tier.threshold}",
                tier.span,
                f"write '{tier.name} below {above.threshold}'",
            )
        return
    if tier.threshold == above.threshold:
        yield dg.error(
            dg.TIERS_OVERLAP,
            f"tiers '{above.name}' and '{tier.name}' both start at {tier.threshold}",
            tier.span,
        )
    elif tier.threshold > above.threshold:
        yield dg.error(
            dg.TIERS_UNORDERED,
            f"tier '{tier.name}' from {tier.threshold} is listed below "
            f"'{above.name}' from {above.threshold}",
            tier.span,
            "list tiers from the highest score to the lowest",
        )


def score_bounds(policy: ast.Policy) -> tuple[Decimal, Decimal]:
    """The lowest and highest score any account can get."""
    low = high = Decimal(0)
    defaults = {f.name for f in policy.facts if f.default is not None}
    for criterion in policy.criteria:
        outcomes = [b.points for b in criterion.branches if b.kind == "when"]
        kinds = {b.kind for b in criterion.branches}
        otherwise = [b.points for b in criterion.branches if b.kind == "otherwise"]
        missing = [b.points for b in criterion.branches if b.kind == "missing"]
        outcomes += otherwise or [Decimal(0)]
        if _can_be_missing(criterion, defaults) or "missing" in kinds:
            outcomes += missing or [Decimal(0)]
        contributions = [criterion.weight * p / 100 for p in outcomes]
        low += min(contributions)
        high += max(contributions)
    return low, high


def _can_be_missing(criterion: ast.Criterion, defaults: set[str]) -> bool:
    read = {
        node.name
        for branch in criterion.branches
        if branch.condition is not None
        for node in ast.walk(branch.condition)
        if isinstance(node, ast.Name)
    }
    return bool(read - defaults)


# ---- overrides, routes, tests -------------------------------------------------


def check_overrides(checked: CheckedPolicy) -> None:
    types = TypeChecker(checked.scope, checked.types)
    for override in checked.policy.overrides:
        types.condition(override.condition)
        for effect in (override.effect, override.on_missing):
            checked.diagnostics += _unknown_tier(effect.tier, effect.span, checked)
    checked.diagnostics += types.found


def check_routes(checked: CheckedPolicy) -> None:
    routes = checked.policy.routes
    if routes is None:
        return
    types = TypeChecker(checked.scope, checked.types)
    for index, route in enumerate(routes.routes):
        trigger = route.trigger
        checked.diagnostics += _unknown_tier(trigger.tier, trigger.span, checked)
        if route.condition is not None:
            types.condition(route.condition, allow_tiers=True)
        elif index != len(routes.routes) - 1:
            checked.diagnostics.append(
                dg.error(
                    dg.MISPLACED,
                    "'otherwise' must be the last route",
                    route.span,
                    "routes after it could never fire",
                )
            )
    checked.diagnostics += types.found


def check_tests(checked: CheckedPolicy) -> None:
    scope = checked.scope
    for test in checked.policy.tests:
        if not test.expect:
            checked.diagnostics.append(
                dg.error(
                    dg.TEST_SHAPE,
                    f"test '{test.name}' expects nothing, so it cannot fail",
                    test.span,
                    "add an 'expect' line, e.g. 'expect tier A'",
                )
            )
        for given in test.given:
            if given.fact not in scope.facts:
                checked.diagnostics.append(
                    dg.error(
                        dg.TEST_UNKNOWN_FACT,
                        f"test '{test.name}' gives unknown fact '{given.fact}'",
                        given.span,
                        *dg.did_you_mean(given.fact, scope.facts),
                    )
                )
        for expectation in test.expect:
            if expectation.kind == "tier" and expectation.tier not in scope.tiers:
                checked.diagnostics.append(
                    dg.error(
                        dg.TEST_UNKNOWN_TIER,
                        f"test '{test.name}' expects unknown tier '{expectation.tier}'",
                        expectation.span,
                        *dg.did_you_mean(expectation.tier or "", scope.tiers),
                    )
                )


def _unknown_tier(
    name: str | None, span: ast.Span, checked: CheckedPolicy
) -> Iterable[dg.Diagnostic]:
    if name is not None and name not in checked.scope.tiers:
        yield dg.error(
            dg.UNKNOWN_NAME,
            f"unknown tier '{name}'",
            span,
            *dg.did_you_mean(name, checked.scope.tiers),
        )


MAX_DEPTH = 32
# How far `within` may reach; further has no use and overflows the calendar.
MAX_WITHIN = {"days": 36_600, "weeks": 5_200, "months": 1_200, "years": 100}


def check_limits(checked: CheckedPolicy) -> None:
    """Conditions stay within what evaluates quickly and safely."""
    policy = checked.policy
    conditions = [b.condition for c in policy.criteria for b in c.branches]
    conditions += [o.condition for o in policy.overrides]
    if policy.routes is not None:
        conditions += [r.condition for r in policy.routes.routes]
    for condition in conditions:
        if condition is None:
            continue
        depth = _depth(condition)
        if depth > MAX_DEPTH:
            checked.diagnostics.append(
                dg.error(
                    dg.TOO_DEEP,
                    f"this condition nests {depth} levels deep; at most {MAX_DEPTH}",
                    condition.span,
                    "split it into several branches or criteria",
                )
            )
            continue
        for node in ast.walk(condition):
            if isinstance(node, ast.Within) and node.amount > MAX_WITHIN[node.unit]:
                checked.diagnostics.append(
                    dg.error(
                        dg.BAD_VALUE,
                        f"'within {node.amount} {node.unit}' reaches too far; "
                        f"at most {MAX_WITHIN[node.unit]} {node.unit}",
                        node.span,
                    )
                )


def _depth(node: ast.Expr) -> int:
    """How deeply `node` nests, without recursing as deep as it does."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.children(current))
    return deepest


# The passes, in the order they run.
PASSES: tuple[Callable[[CheckedPolicy], None], ...] = (
    check_limits,
    check_header,
    check_names,
    check_facts,
    check_criteria,
    check_tiers,
    check_overrides,
    check_routes,
    check_tests,
    check_reachable,
)
