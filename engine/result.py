"""What grading an account produces: the result and its explanation ledger.

These pydantic models are the public shape of a grade, shared by the
in-process API, the JSONL output and the audit file. The contributions add up
exactly to the score: both are decimals computed from the numbers written in
the policy.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class PolicyRef(_Model):
    name: str
    version: str
    hash: str


class Contribution(_Model):
    """One criterion's share of the score, and which branch decided it."""

    criterion: str
    weight: Decimal
    points: Decimal
    contribution: Decimal
    branch: Literal["when", "otherwise", "missing"]
    condition: str | None  # the branch's condition as written in the policy
    line: int | None  # the branch's line; None for an implicit otherwise/missing
    missing: tuple[str, ...] = ()  # facts it reads that the account lacks


class AppliedOverride(_Model):
    name: str
    effect: Literal["exclude", "tier"]
    tier: str | None
    reason: str
    line: int
    on_missing: bool  # fired because its facts were missing


class Action(_Model):
    """An action of a route that matched the account.

    `trigger` says when it should fire: `change` (the account's tier changed
    since it was last graded), `every_run`, or `entering`/`leaving` the tier
    `trigger_tier`. Grading alone reports every matching action, as if the
    account were new; the audit store decides which fire.
    """

    kind: Literal["assign", "enroll", "notify", "tag"]
    target: str
    route_line: int
    trigger: Literal["change", "every_run", "entering", "leaving"] = "change"
    trigger_tier: str | None = None

    def fires(self, previous: str | None, tier: str | None) -> bool:
        """Whether it fires for an account going from `previous` to `tier`.

        - `change`: the tier differs from the previous one (a new account counts);
        - `entering X`: the tier is X and the previous one was not;
        - `leaving X`: the previous tier was X and this one is not;
        - `every_run`: always.

        A tier of None (an excluded account) fires nothing.
        """
        if tier is None:
            return False
        if self.trigger == "every_run":
            return True
        if self.trigger == "change":
            return tier != previous
        if self.trigger == "entering":
            return tier == self.trigger_tier and previous != self.trigger_tier
        return previous == self.trigger_tier and tier != self.trigger_tier


class GradeResult(_Model):
    """The grade of one account."""

    id: str | None
    tier: str | None  # None when an override excluded the account
    score: Decimal
    excluded: bool
    reason: str
    contributions: tuple[Contribution, ...]
    missing: tuple[str, ...]
    override: AppliedOverride | None
    actions: tuple[Action, ...]
    policy: PolicyRef
    as_of: str

    def fired(self, previous: str | None = None) -> tuple[Action, ...]:
        """The actions that fire if the account's tier was `previous`.

        `actions` lists every action of the routes that matched; which fire
        depends on the account's tier before this grade. Without a store to
        remember it, an account is new (`previous` None).
        """
        return tuple(a for a in self.actions if a.fires(previous, self.tier))


class FieldProblem(_Model):
    """Why one field of an input record could not be read."""

    field: str
    value: str
    reason: str


class Rejected(_Model):
    """An input record that was not graded, and every reason why."""

    id: str | None
    line: int | None
    problems: tuple[FieldProblem, ...]
