"""What grading an account produces: the result and its explanation ledger.

These pydantic models are the public shape of a grade, shared by the
in-process API, the JSONL output and the audit file. The contributions add up
exactly to the score: both are decimals computed from the numbers written in
the policy.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    computed_field,
    model_validator,
)
from pydantic_core import InitErrorDetails


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


class Explainer(Protocol):
    """What builds a grade's explanation when it is first asked for."""

    def contributions(
        self, branches: tuple[int, ...], missing: int
    ) -> tuple[Contribution, ...]: ...

    def missing(self, missing: int) -> tuple[str, ...]: ...

    def reason(
        self, parts: tuple[Contribution, ...], override: AppliedOverride | None
    ) -> str: ...


class GradeResult(_Model):
    """The grade of one account.

    `contributions`, `missing` and `reason` are the explanation: built the
    first time they are read (or serialized), from the branches the account
    took, so that a caller who wants only the tier does not pay for them.
    Results are made by the engine (`CompiledPolicy.grade`), not by hand; one
    read back from its own `model_dump` (or JSON) keeps the explanation dumped.
    """

    id: str | None
    tier: str | None  # None when an override excluded the account
    score: Decimal
    excluded: bool
    override: AppliedOverride | None
    actions: tuple[Action, ...]
    policy: PolicyRef
    as_of: str
    # Until the explanation is read, the instance's __dict__ also holds what
    # builds it (`_WHY`, see `assemble`); pydantic ignores keys that are not
    # fields, as it does for the cached properties below.

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def contributions(self) -> tuple[Contribution, ...]:
        """Each criterion's share of the score, in the policy's order."""
        explainer, branches, missing = self._explanation()
        return explainer.contributions(branches, missing)

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def missing(self) -> tuple[str, ...]:
        """The facts the account lacks, in the policy's order."""
        explainer, _, missing = self._explanation()
        return explainer.missing(missing)

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def reason(self) -> str:
        """A short reason, the kind a CRM field can show."""
        explainer, _, _ = self._explanation()
        return explainer.reason(self.contributions, self.override)

    @model_validator(mode="wrap")
    @classmethod
    def _explained(cls, data: Any, handler: Any) -> GradeResult:
        """A result read back from its own `model_dump` keeps its explanation:
        the computed fields are taken as given, not recomputed."""
        given: dict[str, Any] = {}
        if isinstance(data, dict) and _EXPLANATION.keys() & data.keys():
            data = dict(data)
            given = {
                name: _validated(name, data.pop(name))
                for name in _EXPLANATION.keys() & data.keys()
            }
        result: GradeResult = handler(data)
        result.__dict__.update(given)
        return result

    def _explanation(self) -> tuple[Explainer, tuple[int, ...], int]:
        found = self.__dict__
        if _WHY[0] not in found:
            raise TypeError("this GradeResult was not made by a policy: no explanation")
        return found[_WHY[0]], found[_WHY[1]], found[_WHY[2]]

    def _settled(self) -> dict[str, Any]:
        """The fields and the explanation, without what builds it."""
        for name in ("contributions", "missing", "reason"):
            getattr(self, name)
        return {k: v for k, v in self.__dict__.items() if k not in _WHY}

    def fired(self, previous: str | None = None) -> tuple[Action, ...]:
        """The actions that fire if the account's tier was `previous`.

        `actions` lists every action of the routes that matched; which fire
        depends on the account's tier before this grade. Without a store to
        remember it, an account is new (`previous` None).
        """
        return tuple(a for a in self.actions if a.fires(previous, self.tier))

    def __eq__(self, other: object) -> bool:
        # What the result says, explanation included; not how it is built.
        if not isinstance(other, GradeResult):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = _Model.__hash__

    def __getstate__(self) -> dict[Any, Any]:
        # A pickled or deep-copied result carries its explanation, not the
        # policy's explainer.
        state = super().__getstate__()
        state["__dict__"] = self._settled()
        return state

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> GradeResult:
        copied = object.__new__(GradeResult)
        _set(copied, "__dict__", copy.deepcopy(self._settled(), memo))
        _set(copied, "__pydantic_fields_set__", set(self.__pydantic_fields_set__))
        _set(copied, "__pydantic_extra__", None)
        _set(copied, "__pydantic_private__", None)
        return copied


_WHY = ("_explainer", "_branches", "_missing")  # see `assemble`
_EXPLANATION: dict[str, TypeAdapter[Any]] = {
    "contributions": TypeAdapter(tuple[Contribution, ...]),
    "missing": TypeAdapter(tuple[str, ...]),
    "reason": TypeAdapter(str),
}


def _validated(name: str, value: Any) -> Any:
    """`value` as the explanation field `name`, or an error located at it."""
    try:
        return _EXPLANATION[name].validate_python(value)
    except ValidationError as exc:
        details = []
        for error in exc.errors():
            detail = InitErrorDetails(
                type=error["type"], loc=(name, *error["loc"]), input=error["input"]
            )
            if "ctx" in error:
                detail["ctx"] = error["ctx"]
            details.append(detail)
        raise ValidationError.from_exception_data("GradeResult", details) from None


_ALL_FIELDS = set(GradeResult.model_fields)


def assemble(
    explainer: Explainer,
    branches: tuple[int, ...],
    missing: int,
    id: str | None,
    tier: str | None,
    score: Decimal,
    excluded: bool,
    override: AppliedOverride | None,
    actions: tuple[Action, ...],
    policy: PolicyRef,
    as_of: str,
) -> GradeResult:
    """A `GradeResult` from values the engine built and checked itself.

    `model_construct` does the same, several times slower: this is the step
    every graded account takes. A test checks it against validation.
    """
    result = object.__new__(GradeResult)
    fields = {
        "id": id,
        "tier": tier,
        "score": score,
        "excluded": excluded,
        "override": override,
        "actions": actions,
        "policy": policy,
        "as_of": as_of,
        "_explainer": explainer,
        "_branches": branches,
        "_missing": missing,
    }
    _set(result, "__dict__", fields)
    _set(result, "__pydantic_fields_set__", _ALL_FIELDS)
    _set(result, "__pydantic_extra__", None)
    _set(result, "__pydantic_private__", None)
    return result


_set = object.__setattr__


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
