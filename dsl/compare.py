"""What changed between two versions of a policy, in words.

`describe_changes` compares two syntax trees part by part (header, facts,
sets, criteria and their branches, tiers, overrides, routes) and says what was
added, removed or changed, the way a reviewer would write it in a pull
request. Layout and comments do not count: only meaning does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from tierwise.dsl import ast
from tierwise.dsl.format import action, condition, literal, number

T = TypeVar("T")


def describe_changes(old: ast.Policy, new: ast.Policy) -> list[str]:
    changes: list[str] = []
    if old.version != new.version:
        changes.append(f"version {old.version} → {new.version}")
    if old.time_zone != new.time_zone:
        changes.append(f"time zone {old.time_zone or 'UTC'} → {new.time_zone or 'UTC'}")
    changes += _named(old.facts, new.facts, "fact", _fact_text)
    changes += _named(old.sets, new.sets, "set", lambda s: _values(s.items))
    changes += _named(
        old.constants, new.constants, "constant", lambda c: literal(c.value.value)
    )
    changes += _criteria(old.criteria, new.criteria)
    changes += _tiers(old.tiers, new.tiers)
    changes += _named(old.overrides, new.overrides, "override", _override_text)
    changes += _routes(old.routes, new.routes)
    return changes


def _named(
    old: tuple[T, ...], new: tuple[T, ...], kind: str, text: Callable[[T], str]
) -> Iterator[str]:
    before = {item.name: item for item in old}  # type: ignore[attr-defined]
    after = {item.name: item for item in new}  # type: ignore[attr-defined]
    for name, item in after.items():
        if name not in before:
            yield f"{kind} '{name}' added: {text(item)}"
        elif before[name] != item:
            yield f"{kind} '{name}' changed: {text(before[name])} → {text(item)}"
    for name, item in before.items():
        if name not in after:
            yield f"{kind} '{name}' removed (was {text(item)})"


def _fact_text(fact: ast.FactDecl) -> str:
    source = f' from "{fact.source}"' if fact.source else ""
    default = f" default {literal(fact.default.value)}" if fact.default else ""
    kind = {"list": "list of text", "enum": "one of " + ", ".join(fact.enum_values)}
    return f"{kind.get(fact.kind, fact.kind)}{source}{default}"


def _values(items: tuple[ast.Literal, ...]) -> str:
    return ", ".join(literal(item.value) for item in items)


def _override_text(override: ast.Override) -> str:
    effect = override.effect
    what = "exclude" if effect.kind == "exclude" else f"tier {effect.tier}"
    return f"when {condition(override.condition)} => {what}"


def _criteria(
    old: tuple[ast.Criterion, ...], new: tuple[ast.Criterion, ...]
) -> Iterator[str]:
    before = {c.name: c for c in old}
    after = {c.name: c for c in new}
    for name, criterion in after.items():
        if name not in before:
            yield f"criterion '{name}' added with weight {number(criterion.weight)}"
            continue
        previous = before[name]
        if previous.weight != criterion.weight:
            yield (
                f"criterion '{name}' weight {number(previous.weight)} → "
                f"{number(criterion.weight)}"
            )
        yield from _branches(name, previous.branches, criterion.branches)
    for name, criterion in before.items():
        if name not in after:
            yield f"criterion '{name}' removed (weight {number(criterion.weight)})"


def _branch_key(branch: ast.Branch) -> str:
    return branch.kind if branch.condition is None else condition(branch.condition)


def _branches(
    name: str, old: tuple[ast.Branch, ...], new: tuple[ast.Branch, ...]
) -> Iterator[str]:
    before = {_branch_key(b): b for b in old}
    after = {_branch_key(b): b for b in new}
    for key, branch in after.items():
        if key not in before:
            points = number(branch.points)
            yield f"criterion '{name}': branch '{key}' added with {points} points"
        elif before[key].points != branch.points:
            yield (
                f"criterion '{name}': '{key}' {number(before[key].points)} → "
                f"{number(branch.points)} points"
            )
    for key in before:
        if key not in after:
            yield f"criterion '{name}': branch '{key}' removed"
    order_before = [k for k in before if k in after]
    order_after = [k for k in after if k in before]
    if order_before != order_after:
        yield f"criterion '{name}': branches reordered (the first that holds wins)"


def _tiers(
    old: tuple[ast.TierLine, ...], new: tuple[ast.TierLine, ...]
) -> Iterator[str]:
    def text(tier: ast.TierLine) -> str:
        return f"{tier.bound} {number(tier.threshold)}"

    before = {t.name: t for t in old}
    after = {t.name: t for t in new}
    for name, tier in after.items():
        if name not in before:
            yield f"tier {name} added: {text(tier)}"
        elif before[name] != tier:
            yield f"tier {name}: {text(before[name])} → {text(tier)}"
    for name, tier in before.items():
        if name not in after:
            yield f"tier {name} removed (was {text(tier)})"


def _routes(old: ast.Routes | None, new: ast.Routes | None) -> Iterator[str]:
    def lines(routes: ast.Routes | None) -> list[str]:
        if routes is None:
            return []
        return [
            ("otherwise" if r.condition is None else condition(r.condition))
            + " => "
            + ", ".join(action(a) for a in r.actions)
            for r in routes.routes
        ]

    if old is not None and new is not None and old.mode != new.mode:
        yield f"routes: '{old.mode}' matching → '{new.mode}' matching"
    before, after = lines(old), lines(new)
    for line in after:
        if line not in before:
            yield f"route added: {line}"
    for line in before:
        if line not in after:
            yield f"route removed: {line}"
