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
