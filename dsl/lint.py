"""Lint: things a policy may legally say but probably does not mean.

Lint runs on a policy that passed its checks and reports warnings: numeric
bands that overlap or leave gaps, conditions that are always true or always
false, declarations nothing uses, tiers no route acts on, two `assign`s for
one account, overrides hidden by earlier ones, `missing` branches that cannot
fire, and a version left unchanged by a change. A finding on a line can be
silenced by `# ignore TWnnn: reason` on that line or alone on the line above;
the reason is required.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from tierwise.dsl import ast
from tierwise.dsl import diagnostics as dg
from tierwise.dsl.check import CheckedPolicy
from tierwise.dsl.comments import silences
from tierwise.dsl.regions import Intervals, Regions, shadowed_by, union_of

BANDS = "TW201"
CONSTANT_CONDITION = "TW202"
UNUSED = "TW203"
TIER_WITHOUT_ACTION = "TW204"
TWO_ASSIGNS = "TW205"
SHADOWED_OVERRIDE = "TW206"
MISSING_NEVER_FIRES = "TW207"
VERSION_UNCHANGED = "TW208"
SILENCE_WITHOUT_REASON = "TW209"


@dataclass
class _Lint:
    checked: CheckedPolicy
    regions: Regions
    found: list[dg.Diagnostic] = field(default_factory=list)

    def warn(self, code: str, message: str, span: ast.Span, *details: str) -> None:
        self.found.append(dg.warning(code, message, span, *details))


def lint(
    checked: CheckedPolicy, source: str, path: str, base: ast.Policy | None = None
) -> list[dg.Diagnostic]:
    """Lint findings for a checked policy, minus the silenced ones, sorted.

    `base` is the same policy at an earlier revision, if there is one: a
    policy whose content changed must change its version too.
    """
    state = _Lint(checked, Regions.of_scope(checked.scope))
    for rule in RULES:
        rule(state)
    if base is not None:
        _version_changed(state, base)
    findings = _silence(state.found, source)
    return sorted(
        (replace(d, file=path) for d in findings), key=lambda d: (d.span, d.code)
    )


def _silence(found: list[dg.Diagnostic], source: str) -> list[dg.Diagnostic]:
    kept: list[dg.Diagnostic] = []
    quiet = {(s.line, code) for s in silences(source) if s.reason for code in s.codes}
    for silence in silences(source):
        if not silence.reason:
            comment = silence.comment
            span = ast.Span(
                comment.line,
                comment.column,
                comment.line,
                comment.column + len(comment.text),
            )
            kept.append(
                dg.warning(
                    SILENCE_WITHOUT_REASON,
                    "an ignore comment needs a reason",
                    span,
                    f"write '# ignore {', '.join(silence.codes)}: why this is fine'",
                )
            )
    kept += [d for d in found if (d.span.line, d.code) not in quiet]
    return kept


# ---- bands and constant conditions -------------------------------------------


def _bands(state: _Lint) -> None:
    """In a criterion whose branches all test one number, bands should tile."""
    for criterion in state.checked.policy.criteria:
        whens = [b for b in criterion.branches if b.kind == "when" and b.condition]
        found = [
            state.regions.of(b.condition) for b in whens if b.condition is not None
        ]
        if len(whens) < 2 or any(f is None for f in found):
            continue
        facts = {f[0] for f in found if f}
        regions = [f[1] for f in found if f]
        if len(facts) != 1 or not all(isinstance(r, Intervals) for r in regions):
            continue
        fact = facts.pop()
        state.found += _overlaps(criterion, whens, regions, fact)  # type: ignore[arg-type]
        state.found += _gaps(criterion, whens, regions, fact)  # type: ignore[arg-type]


def _overlaps(
    criterion: ast.Criterion,
    whens: list[ast.Branch],
    regions: list[Intervals],
    fact: str,
) -> Iterator[dg.Diagnostic]:
    """Two closed bands (`between`) that share values: which did the author mean?"""
    for i, (branch, region) in enumerate(zip(whens, regions)):
        for other, other_region in zip(whens[:i], regions[:i]):
            if not (_bounded(region) and _bounded(other_region)):
                continue
            shared = region.intersect(other_region)
            if shared.is_empty() or other_region.covers(region):
                continue
            yield dg.warning(
                BANDS,
                f"in '{criterion.name}', this band of '{fact}' overlaps "
                f"line {other.span.line}",
                branch.span,
                f"both take {_describe(shared)}; the earlier line wins",
            )


def _gaps(
    criterion: ast.Criterion,
    whens: list[ast.Branch],
    regions: list[Intervals],
    fact: str,
) -> Iterator[dg.Diagnostic]:
    """Values between two bands that no band takes; reported on the band after."""
    covered = union_of(regions)  # type: ignore[arg-type]
    assert isinstance(covered, Intervals)
    parts = covered.parts
    for (_, _, high, high_closed), (low, low_closed, _, _) in zip(parts, parts[1:]):
        gap = Intervals.of(high, not high_closed, low, not low_closed, covered.integer)
        if gap.is_empty():
            continue
        after = next(
            (b for b, r in zip(whens, regions) if r.parts and r.parts[0][0] == low),
            whens[-1],
        )
        yield dg.warning(
            BANDS,
            f"in '{criterion.name}', no band covers {_describe(gap)} of '{fact}'",
            after.span,
            "such accounts fall through to 'otherwise'; close the gap or say so "
            "with a branch",
        )


def _bounded(region: Intervals) -> bool:
    return len(region.parts) == 1 and None not in (
        region.parts[0][0],
        region.parts[0][2],
    )


def _describe(region: Intervals) -> str:
    texts = []
    for low, low_closed, high, high_closed in region.parts:
        if low == high:
            texts.append(f"{low}")
        else:
            left = "from" if low_closed else "above"
            right = "to" if high_closed else "below"
            texts.append(f"{left} {low} {right} {high}")
    return ", ".join(texts)


def _constant_conditions(state: _Lint) -> None:
    for expr in _conditions(state.checked.policy):
        names = [n for n in ast.walk(expr) if isinstance(n, ast.Name | ast.TierIs)]
        found = state.regions.of(expr)
        if not names:
            verdict = "always true or always false: it reads no fact"
        elif found is not None and found[1].is_empty():
            verdict = f"always false: no value of '{found[0]}' satisfies it"
        elif found is not None and found[1].complement().is_empty():
            verdict = f"always true when '{found[0]}' is known"
        else:
            continue
        state.warn(CONSTANT_CONDITION, f"this condition is {verdict}", expr.span)


def _conditions(policy: ast.Policy) -> Iterator[ast.Expr]:
    for criterion in policy.criteria:
        yield from (b.condition for b in criterion.branches if b.condition is not None)
    yield from (o.condition for o in policy.overrides)
    if policy.routes is not None:
        yield from (
            r.condition for r in policy.routes.routes if r.condition is not None
        )


# ---- unused declarations -----------------------------------------------------


def _unused(state: _Lint) -> None:
    policy = state.checked.policy
    used = {
        node.name
        for expr in _conditions(policy)
        for node in ast.walk(expr)
        if isinstance(node, ast.Name)
    }
    sets_used = {
        collection.name
        for expr in _conditions(policy)
        for node in ast.walk(expr)
        if isinstance(node, ast.In | ast.Contains)
        and isinstance(collection := node.collection, ast.SetRef)
    }
    for fact in policy.facts:
        if fact.name not in used:
            state.warn(
                UNUSED, f"fact '{fact.name}' is declared but never used", fact.span
            )
    for declared in policy.sets:
        if declared.name not in sets_used:
            state.warn(
                UNUSED,
                f"set '{declared.name}' is declared but never used",
                declared.span,
            )
    for constant in policy.constants:
        if constant.name not in used:
            state.warn(
                UNUSED,
                f"constant '{constant.name}' is declared but never used",
                constant.span,
            )
    for criterion in policy.criteria:
        if criterion.weight == 0:
            state.warn(
                UNUSED,
                f"criterion '{criterion.name}' has weight 0 and never counts",
                criterion.span,
            )


# ---- routes ------------------------------------------------------------------


def _could_fire(condition: ast.Expr | None, tier: str) -> bool | None:
    """Whether a route condition can hold for an account in `tier`.

    Tier tests are decided; every other test might go either way (None).
    """
    if condition is None:
        return True
    match condition:
        case ast.TierIs(tiers=tiers):
            return tier in tiers
        case ast.Not(operand=operand):
            inner = _could_fire(operand, tier)
            return None if inner is None else not inner
        case ast.And(operands=ops):
            results = [_could_fire(op, tier) for op in ops]
            return False if False in results else (None if None in results else True)
        case ast.Or(operands=ops):
            results = [_could_fire(op, tier) for op in ops]
            return True if True in results else (None if None in results else False)
    return None


def _tiers_without_action(state: _Lint) -> None:
    policy = state.checked.policy
    if policy.routes is None:
        return
    for tier in policy.tiers:
        if all(
            _could_fire(r.condition, tier.name) is False for r in policy.routes.routes
        ):
            state.warn(
                TIER_WITHOUT_ACTION,
                f"no route acts on tier '{tier.name}'",
                policy.routes.span,
                f"add a route for tier {tier.name}, or an 'otherwise' route",
            )


def _two_assigns(state: _Lint) -> None:
    routes = state.checked.policy.routes
    if routes is None:
        return
    for route in routes.routes:
        assigns = [a for a in route.actions if a.kind == "assign"]
        if len(assigns) > 1:
            state.warn(
                TWO_ASSIGNS, "this route assigns the account twice", assigns[1].span
            )
    if routes.mode != "all":
        return
    tiers = [t.name for t in state.checked.policy.tiers]
    assigning = [
        r
        for r in routes.routes
        if r.condition and any(a.kind == "assign" for a in r.actions)
    ]
    for i, route in enumerate(assigning):
        for earlier in assigning[:i]:
            shared = [
                t
                for t in tiers
                if _could_fire(route.condition, t) is not False
                and _could_fire(earlier.condition, t) is not False
            ]
            if shared:
                state.warn(
                    TWO_ASSIGNS,
                    f"this route and the one on line {earlier.span.line} can both "
                    "assign one account",
                    route.span,
                    f"both can fire for tier {shared[0]}; with 'all matching fire' "
                    "an account gets every matching route's actions",
                )
                break


# ---- overrides and missing branches ------------------------------------------


def _shadowed_overrides(state: _Lint) -> None:
    earlier: list[tuple[ast.Expr, int]] = []
    for override in state.checked.policy.overrides:
        cause = shadowed_by(override.condition, earlier, state.regions)
        if cause is not None:
            state.warn(
                SHADOWED_OVERRIDE,
                f"override '{override.name}' never fires: an earlier override "
                "always fires first",
                override.condition.span,
                cause,
            )
        earlier.append((override.condition, override.condition.span.line))


def _missing_never_fires(state: _Lint) -> None:
    facts = state.checked.scope.facts
    for criterion in state.checked.policy.criteria:
        missing = [b for b in criterion.branches if b.kind == "missing"]
        if not missing:
            continue
        nodes = [
            n for b in criterion.branches if b.condition for n in ast.walk(b.condition)
        ]
        read = {n.name for n in nodes if isinstance(n, ast.Name) and n.name in facts}
        divides = any(isinstance(n, ast.Arithmetic) and n.op == "/" for n in nodes)
        if (
            read
            and not divides
            and all(facts[name].default is not None for name in read)
        ):
            state.warn(
                MISSING_NEVER_FIRES,
                f"the 'missing' branch of '{criterion.name}' can never fire",
                missing[0].span,
                "every fact it reads has a default: " + ", ".join(sorted(read)),
            )


def _version_changed(state: _Lint, base: ast.Policy) -> None:
    policy = state.checked.policy
    if policy != base and policy.version == base.version:
        state.warn(
            VERSION_UNCHANGED,
            f"the policy changed but its version is still {policy.version}",
            policy.span,
            "raise the version so audit records tell the two apart",
        )


RULES: tuple[Callable[[_Lint], None], ...] = (
    _bands,
    _constant_conditions,
    _unused,
    _tiers_without_action,
    _two_assigns,
    _shadowed_overrides,
    _missing_never_fires,
)
