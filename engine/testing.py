"""Run the tests written inside a policy.

Each `test` block gives facts, an optional as-of and expectations; the facts
go through the same reading rules as real input, so a test can also pin how
a messy value is read. A test passes when every expectation holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tierwise.dsl import ast
from tierwise.engine.policy import CompiledPolicy, RecordError, format_decimal
from tierwise.engine.result import GradeResult


@dataclass
class TestOutcome:
    policy: str
    test: ast.TestCase
    failures: list[str] = field(default_factory=list)
    result: GradeResult | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


def run_tests(policy: CompiledPolicy) -> list[TestOutcome]:
    return [run_test(policy, test) for test in policy.checked.policy.tests]


def run_test(policy: CompiledPolicy, test: ast.TestCase) -> TestOutcome:
    outcome = TestOutcome(policy.path, test)
    facts = {given.fact: _raw(given.value) for given in test.given}
    try:
        result = policy.grade(facts, as_of=test.as_of)
    except RecordError as exc:
        outcome.failures.append(f"the given facts cannot be read: {exc}")
        return outcome
    outcome.result = result
    outcome.failures = [
        failure
        for expectation in test.expect
        if (failure := _failure(expectation, result)) is not None
    ]
    return outcome


def _raw(value: ast.Literal | tuple[ast.Literal, ...] | None) -> Any:
    if value is None:
        return None
    if isinstance(value, tuple):
        return [_raw(item) for item in value]
    if isinstance(value.value, Decimal):
        return str(value.value)
    return value.value


def _failure(expectation: ast.Expectation, result: GradeResult) -> str | None:
    """What differs from `expectation`, or None if it holds."""
    actual_tier = "excluded" if result.excluded else f"tier {result.tier}"
    if expectation.kind == "tier":
        if result.excluded or result.tier != expectation.tier:
            return f"expected tier {expectation.tier}, got {actual_tier}"
    elif expectation.kind == "excluded":
        if not result.excluded:
            return f"expected excluded, got {actual_tier}"
    elif expectation.kind == "score":
        if result.score != expectation.score:
            want = format_decimal(expectation.score or Decimal(0))
            return f"expected score {want}, got {format_decimal(result.score)}"
    elif expectation.kind == "no_actions":
        if result.fired():
            return f"expected no actions, got {describe_actions(result)}"
    elif expectation.action is not None:
        wanted = (expectation.action.kind, expectation.action.target)
        if wanted not in {(a.kind, a.target) for a in result.fired()}:
            return (
                f'expected {wanted[0]} "{wanted[1]}", got '
                f"{describe_actions(result) or 'no actions'}"
            )
    return None


def describe_actions(result: GradeResult) -> str:
    return ", ".join(f'{a.kind} "{a.target}"' for a in result.fired())
