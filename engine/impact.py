"""What a policy change does to real accounts.

`measure_impact` grades one input with the old and the new policy, as of the
same instant, and keeps only what a reviewer needs: the tier migration matrix
(old tier by new tier, with `excluded` and `rejected` as tiers of their own),
how many accounts move, how each tier's size changes, the accounts that move
furthest with the criteria that moved them, and the actions that would newly
fire. Memory stays flat: only the counts and the top movers are kept.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from tierwise.engine.policy import AsOf, CompiledPolicy, RecordError
from tierwise.engine.readers import InputRecord
from tierwise.engine.result import GradeResult

EXCLUDED = "excluded"
REJECTED = "rejected"


@dataclass(frozen=True)
class Mover:
    id: str
    old: str
    new: str
    old_score: Decimal | None
    new_score: Decimal | None
    drivers: tuple[tuple[str, Decimal], ...]  # criterion and its change, largest first


@dataclass
class Impact:
    old_tiers: list[str]
    new_tiers: list[str]
    read: int = 0
    matrix: Counter[tuple[str, str]] = field(default_factory=Counter)
    new_actions: Counter[tuple[str, str]] = field(default_factory=Counter)
    top: list[tuple[tuple[int, Decimal, int], Mover]] = field(default_factory=list)

    @property
    def moved(self) -> int:
        return sum(n for (old, new), n in self.matrix.items() if old != new)

    def size(self, tier: str, side: str) -> int:
        index = 0 if side == "old" else 1
        return sum(n for key, n in self.matrix.items() if key[index] == tier)

    @property
    def movers(self) -> list[Mover]:
        return [
            mover for _, mover in sorted(self.top, key=lambda t: t[0], reverse=True)
        ]

    def rows(self) -> list[str]:
        return self.old_tiers + [EXCLUDED, REJECTED]

    def columns(self) -> list[str]:
        return self.new_tiers + [EXCLUDED, REJECTED]


def measure_impact(
    old: CompiledPolicy,
    new: CompiledPolicy,
    records: Iterable[InputRecord],
    as_of: AsOf,
    *,
    id_field: str | None = None,
    keep: int = 10,
) -> Impact:
    old_tiers = [t.name for t in old.checked.policy.tiers]
    new_tiers = [t.name for t in new.checked.policy.tiers]
    impact = Impact(old_tiers, new_tiers)
    grader_old, grader_new = _Grader(old, as_of), _Grader(new, as_of)
    for number, record in enumerate(records, start=1):
        impact.read += 1
        ident = _ident(record, id_field) or f"record {number}"
        before, after = grader_old.grade(record), grader_new.grade(record)
        old_label, new_label = _label(before), _label(after)
        impact.matrix[(old_label, new_label)] += 1
        impact.new_actions.update(_new_actions(before, after))
        if old_label != new_label:
            mover = _mover(ident, old_label, new_label, before, after)
            rank = (
                _distance(old_label, new_label, old_tiers, new_tiers),
                _swing(mover),
                -number,
            )
            _keep_top(impact.top, (rank, mover), keep)
    return impact


class _Grader:
    """Grades raw records with one policy, binding columns once per header."""

    def __init__(self, policy: CompiledPolicy, as_of: AsOf):
        self.policy = policy
        self.as_of = as_of
        self.fields: tuple[str, ...] | None = None
        self.positions: list[int | None] = []

    def grade(self, record: InputRecord) -> GradeResult | None:
        if record.problem is not None:
            return None
        if record.fields != self.fields:
            self.fields, self.positions = record.fields, self.policy.bind(record.fields)
        raw = [record.values[p] if p is not None else None for p in self.positions]
        names = [
            record.fields[p] if p is not None else fact.name
            for p, fact in zip(self.positions, self.policy.facts)
        ]
        try:
            values = self.policy.coerce(raw, names)
        except RecordError:
            return None
        return self.policy.grade_values(values, self.as_of)


def _ident(record: InputRecord, id_field: str | None) -> str | None:
    if not record.fields:
        return None
    position = record.fields.index(id_field) if id_field in record.fields else 0
    if position >= len(record.values) or record.values[position] is None:
        return None
    return str(record.values[position]).strip()


def _label(result: GradeResult | None) -> str:
    if result is None:
        return REJECTED
    return EXCLUDED if result.excluded else result.tier or EXCLUDED


def _new_actions(
    before: GradeResult | None, after: GradeResult | None
) -> set[tuple[str, str]]:
    if after is None:
        return set()
    old: set[tuple[str, str]] = set()
    if before is not None:
        old = {(a.kind, a.target) for a in before.fired()}
    return {(str(a.kind), a.target) for a in after.fired()} - old


def _mover(
    ident: str,
    old: str,
    new: str,
    before: GradeResult | None,
    after: GradeResult | None,
) -> Mover:
    shares: dict[str, Decimal] = {}
    for part in after.contributions if after else ():
        shares[part.criterion] = (
            shares.get(part.criterion, Decimal(0)) + part.contribution
        )
    for part in before.contributions if before else ():
        shares[part.criterion] = (
            shares.get(part.criterion, Decimal(0)) - part.contribution
        )
    drivers = sorted(
        ((name, delta) for name, delta in shares.items() if delta != 0),
        key=lambda item: abs(item[1]),
        reverse=True,
    )
    return Mover(
        ident,
        old,
        new,
        before.score if before else None,
        after.score if after else None,
        tuple(drivers[:3]),
    )


def _distance(old: str, new: str, old_tiers: list[str], new_tiers: list[str]) -> int:
    """How many tiers apart two grades are; excluded and rejected rank lowest."""

    def rank(label: str, tiers: list[str]) -> int:
        return tiers.index(label) if label in tiers else len(tiers)

    return abs(rank(old, old_tiers) - rank(new, new_tiers))


def _swing(mover: Mover) -> Decimal:
    if mover.old_score is None or mover.new_score is None:
        return Decimal(0)
    return abs(mover.new_score - mover.old_score)


def _keep_top(
    top: list[tuple[tuple[int, Decimal, int], Mover]],
    item: tuple[tuple[int, Decimal, int], Mover],
    keep: int,
) -> None:
    if len(top) < keep:
        heapq.heappush(top, item)
    elif item[0] > top[0][0]:
        heapq.heapreplace(top, item)
