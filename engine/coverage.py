"""Which parts of a policy its tests exercise.

The parts are every branch a criterion can take (its conditions, and its
`otherwise` and `missing` branches when written), every tier, every way an
override can fire and every route. A test exercises a part when grading its
facts goes through it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from tierwise.dsl import ast
from tierwise.dsl.format import condition
from tierwise.engine.result import GradeResult


@dataclass(frozen=True)
class Part:
    kind: str  # "branch", "tier", "override", "route"
    label: str  # how a person finds it: the criterion and condition, the tier name
    line: int


@dataclass(frozen=True)
class Coverage:
    parts: tuple[Part, ...]
    exercised: frozenset[Part]

    @property
    def missed(self) -> list[Part]:
        return [p for p in self.parts if p not in self.exercised]

    @property
    def percent(self) -> Decimal:
        if not self.parts:
            return Decimal(100)
        share = Decimal(len(self.exercised)) * 100 / len(self.parts)
        return share.quantize(Decimal("0.1"))


def parts_of(policy: ast.Policy) -> list[Part]:
    parts = []
    for criterion in policy.criteria:
        for branch in criterion.branches:
            what = (
                branch.kind if branch.condition is None else condition(branch.condition)
            )
            label = f"criterion '{criterion.name}': {what}"
            parts.append(Part("branch", label, branch.span.line))
    parts += [
        Part("tier", f"tier {tier.name}", tier.span.line) for tier in policy.tiers
    ]
    for override in policy.overrides:
        parts.append(
            Part("override", f"override '{override.name}'", override.span.line)
        )
        if override.on_missing.kind != "skip":
            label = f"override '{override.name}' when missing"
            parts.append(Part("override", label, override.on_missing.span.line))
    if policy.routes is not None:
        for route in policy.routes.routes:
            when = (
                "otherwise" if route.condition is None else condition(route.condition)
            )
            parts.append(Part("route", f"route: {when}", route.span.line))
    return parts


def measure(policy: ast.Policy, results: Iterable[GradeResult]) -> Coverage:
    parts = parts_of(policy)
    hit: set[Part] = set()
    for result in results:
        hit.update(part for part in parts if _touches(result, part))
    return Coverage(tuple(parts), frozenset(hit))


def _touches(result: GradeResult, part: Part) -> bool:
    if part.kind == "branch":
        return any(c.line == part.line for c in result.contributions)
    if part.kind == "tier":
        return result.tier is not None and part.label == f"tier {result.tier}"
    if part.kind == "route":
        return any(a.route_line == part.line for a in result.actions)
    fired = result.override
    if fired is None:
        return False
    suffix = " when missing" if fired.on_missing else ""
    return part.label == f"override '{fired.name}'{suffix}"
