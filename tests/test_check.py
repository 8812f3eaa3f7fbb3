"""Every check a policy goes through before it may grade, with exact messages."""

from __future__ import annotations

import textwrap

import pytest

from tierwise.dsl.check import check_source
from tierwise.dsl.diagnostics import render_text

HEAD = """\
policy "p" version 1
facts
  employees int
  revenue   money
  industry  text
  segment   one of "SMB", "Enterprise"
  since     date
  customer  bool default false
set targets = "Software", "Fintech"
"""
TIERS = "tiers\n  A from 50\n  B below 50\n"
SIZE = 'criterion "c" weight 100\n  employees > 1 => 100\n'


def diagnostics(body: str, head: str = HEAD) -> list[tuple[str, str, int, int]]:
    checked = check_source(head + textwrap.dedent(body), "p.grade")
    return [
        (d.code, d.message, d.span.line, d.span.column) for d in checked.diagnostics
    ]


def only(body: str) -> tuple[str, str, int, int]:
    found = diagnostics(body)
    assert len(found) == 1, found
    return found[0]


def test_a_clean_policy_has_no_diagnostics() -> None:
    body = """\
    criterion "Size" weight 100
      employees >= 100 => 100
      otherwise => 0
    """
    assert diagnostics(body + TIERS) == []


CASES = [
    pytest.param(
        'criterion "c" weight 100\n  employes >= 1 => 1\n' + TIERS,
        ("TW101", "unknown fact 'employes'", 11, 3),
        id="unknown-fact",
    ),
    pytest.param(
        'criterion "c" weight 100\n  industry in tragets => 1\n' + TIERS,
        ("TW101", "unknown set 'tragets'", 11, 15),
        id="unknown-set",
    ),
    pytest.param(
        'criterion "c" weight 100\n  industry > 5 => 1\n' + TIERS,
        ("TW102", "have text, want number or date: '>' needs an order", 11, 3),
        id="text-is-not-ordered",
    ),
    pytest.param(
        'criterion "c" weight 100\n  employees = "many" => 1\n' + TIERS,
        ("TW102", "cannot compare int with text", 11, 3),
        id="number-against-text",
    ),
    pytest.param(
        'criterion "c" weight 100\n  employees + 1 => 1\n' + TIERS,
        ("TW102", "have number, want bool: a condition must be true or false", 11, 3),
        id="condition-must-be-yes-no",
    ),
    pytest.param(
        'criterion "c" weight 100\n  segment = "Mid" => 1\n' + TIERS,
        ("TW112", "'Mid' is not one of the values of 'segment'", 11, 13),
        id="enumeration-value",
    ),
    pytest.param(
        'criterion "c" weight 100\n  employees in targets => 1\n' + TIERS,
        ("TW102", "cannot look for int in a set of text", 11, 16),
        id="set-of-wrong-type",
    ),
    pytest.param(
        'criterion "c" weight 100\n  tier A => 1\n' + TIERS,
        ("TW113", "a tier test only works in routes", 11, 3),
        id="tier-test-in-criterion",
    ),
    pytest.param(
        'criterion "c" weight 100\n  otherwise => 1\n  employees > 1 => 2\n' + TIERS,
        (
            "TW113",
            "in criterion 'c', a condition follows 'otherwise' or 'missing'",
            12,
            3,
        ),
        id="condition-after-otherwise",
    ),
    pytest.param(
        'criterion "c" weight 100\n  otherwise => 1\n  otherwise => 2\n' + TIERS,
        ("TW115", "criterion 'c' has 2 'otherwise' branches", 10, 11),
        id="two-otherwise",
    ),
    pytest.param(
        'criterion "c" weight 90\n  employees > 1 => 100\n' + TIERS,
        ("TW104", "weights add up to 90, not 100", 10, 11),
        id="weights-not-100",
    ),
    pytest.param(
        SIZE + "tiers\n  A from 50\n  B from 60\n  C below 60\n",
        ("TW105", "tier 'B' from 60 is listed below 'A' from 50", 14, 3),
        id="tiers-unordered",
    ),
    pytest.param(
        SIZE + "tiers\n  A from 50\n  B from 50\n  C below 50\n",
        ("TW106", "tiers 'A' and 'B' both start at 50", 14, 3),
        id="tiers-overlap",
    ),
    pytest.param(
        SIZE + "tiers\n  A from 50\n  B below 60\n",
        ("TW106", "tier 'B' overlaps 'A' from 50 to 60", 14, 3),
        id="below-overlaps",
    ),
    pytest.param(
        SIZE + "tiers\n  A from 50\n  B below 40\n",
        ("TW107", "scores from 40 up to 50 get no tier", 14, 3),
        id="tiers-gap-between",
    ),
    pytest.param(
        'criterion "c" weight 100\n  employees > 1 => 100\n  otherwise => -10\ntiers\n'
        "  A from 50\n  B from 0\n",
        ("TW107", "scores below 0 get no tier", 15, 3),
        id="negative-points-below-lowest-tier",
    ),
    pytest.param(
        'criterion "c" weight 100\n  employees >= 10 => 100\n  employees > 20 => 50\n'
        + TIERS,
        ("TW108", "this branch of 'c' can never fire", 12, 3),
        id="unreachable-numeric",
    ),
    pytest.param(
        'criterion "c" weight 100\n  industry in targets => 100\n'
        '  industry = " software" => 5\n' + TIERS,
        ("TW108", "this branch of 'c' can never fire", 12, 3),
        id="unreachable-by-named-set",
    ),
    pytest.param(
        'criterion "c" weight 100\n  industry in "a", "B" => 100\n'
        '  industry = " b" => 5\n' + TIERS,
        ("TW108", "this branch of 'c' can never fire", 12, 3),
        id="unreachable-text-ignores-case-and-spaces",
    ),
    pytest.param(
        'criterion "c" weight 100\n  employees < 10 => 1\n  employees >= 10 => 2\n'
        "  employees between 5 and 50 => 3\n" + TIERS,
        ("TW108", "this branch of 'c' can never fire", 13, 3),
        id="unreachable-by-union",
    ),
    pytest.param(
        SIZE + "tiers\n  A from 5\n  A below 5\n",
        ("TW103", "tier 'A' is declared twice", 14, 3),
        id="duplicate-tier",
    ),
    pytest.param(
        'set employees = 1, 2\ncriterion "c" weight 100\n  revenue > 1 => 1\n' + TIERS,
        ("TW103", "set 'employees' is declared twice", 10, 5),
        id="duplicate-name",
    ),
    pytest.param(
        'criterion "c" weight 100\n  employees > 1 => 1\n'
        + TIERS
        + 'test "t"\n  given employes 5\n  expect tier A\n',
        ("TW109", "test 't' gives unknown fact 'employes'", 16, 9),
        id="test-unknown-fact",
    ),
    pytest.param(
        'criterion "c" weight 100\n  employees > 1 => 1\n'
        + TIERS
        + 'test "t"\n  given employees 5\n  expect tier Z\n',
        ("TW110", "test 't' expects unknown tier 'Z'", 17, 10),
        id="test-unknown-tier",
    ),
    pytest.param(
        'criterion "c" weight 100\n  employees > 1 => 1\n'
        + TIERS
        + 'override "o"\n  when employees > 5 => tier Q, reason "r"\n',
        ("TW101", "unknown tier 'Q'", 16, 25),
        id="override-unknown-tier",
    ),
]


@pytest.mark.parametrize(("body", "expected"), CASES)
def test_each_problem_gets_one_precise_diagnostic(
    body: str, expected: tuple[str, str, int, int]
) -> None:
    assert only(body) == expected


def test_unknown_time_zone() -> None:
    head = HEAD.replace("version 1\n", 'version 1\n  time zone "Mars/Olympus"\n')
    found = diagnostics(
        'criterion "c" weight 100\n  employees > 1 => 1\n' + TIERS, head
    )
    assert found == [("TW111", "unknown time zone 'Mars/Olympus'", 2, 13)]


def test_a_second_routes_block_is_an_error() -> None:
    body = SIZE + TIERS + 'routes\n  tier A => tag "a"\nroutes\n  tier B => tag "b"\n'
    assert only(body) == ("TW103", "a second 'routes' block", 17, 1)


def test_a_default_must_fit_its_fact() -> None:
    head = HEAD.replace("customer  bool default false", "customer  bool default 3")
    found = diagnostics(
        'criterion "c" weight 100\n  employees > 1 => 1\n' + TIERS, head
    )
    assert found == [
        ("TW102", "have int, want bool: the default of 'customer' must be a value "
         "of its type", 8, 26)
    ]  # fmt: skip


def test_all_problems_of_a_policy_in_one_run_with_carets() -> None:
    """The acceptance case: four different mistakes, four precise diagnostics."""
    source = HEAD + textwrap.dedent(
        """\
        criterion "Size" weight 60
          employes >= 1000 => 100
          employees >= 50 => 40
          employees between 100 and 500 => 20
        criterion "Industry" weight 40
          industry = 5 => 100
        tiers
          A from 80
          B from 40
        """
    )
    checked = check_source(source, "bad.grade")
    lines = source.splitlines()
    rendered = "\n".join(render_text(d, lines) for d in checked.diagnostics)
    assert rendered == textwrap.dedent(
        """\
        bad.grade:11:3: error[TW101]: unknown fact 'employes'
            11 |   employes >= 1000 => 100
               |   ^^^^^^^^
          = did you mean 'employees'?
        bad.grade:13:3: error[TW108]: this branch of 'Size' can never fire
            13 |   employees between 100 and 500 => 20
               |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
          = every value of 'employees' it accepts is taken by line 12
        bad.grade:15:3: error[TW102]: cannot compare text with int
            15 |   industry = 5 => 100
               |   ^^^^^^^^^^^^
          = have int, want text
        bad.grade:18:3: error[TW107]: scores below 40 get no tier
            18 |   B from 40
               |   ^^^^^^^^^
          = the lowest possible score is 0
          = end the tiers with a 'below 40' tier, or lower 'B' to 'from 0'"""
    )
