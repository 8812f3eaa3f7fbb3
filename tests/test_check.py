"""Every check a policy goes through before it may grade, with exact messages."""

from __future__ import annotations

import textwrap

import pytest

from tierwise.dsl.check import check_source
from tierwise.dsl.diagnostics import render_text
from tierwise.dsl.errors import PolicyError

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
        ("TW115", "criterion 'c' has 2 'otherwise' branches", 12, 3),
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


MORE = [
    pytest.param(
        SIZE + TIERS.replace("B below 50", "B below 50\n  C below 40"),
        ("TW105", "tier 'B' takes every score below 50, so it must be the last tier",
         14, 3),
        id="no-follow-on-gap-after-a-misplaced-below",
    ),
    pytest.param(
        SIZE + TIERS + 'test "t"\n  given employees 5\n',
        ("TW117", "test 't' expects nothing, so it cannot fail", 15, 6),
        id="test-without-expectation",
    ),
    pytest.param(
        'criterion "c" weight 100\n  since within 200 years => 1\n' + TIERS,
        ("TW112", "'within 200 years' reaches too far; at most 100 years", 11, 3),
        id="within-too-far",
    ),
    pytest.param(
        'criterion "c" weight 100\n  ' + " + ".join(["employees"] * 40) + " > 1 => 1\n"
        + TIERS,
        ("TW118", "this condition nests 41 levels deep; at most 32", 11, 3),
        id="too-deep",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("body", "expected"), MORE)
def test_structural_problems(body: str, expected: tuple[str, str, int, int]) -> None:
    assert only(body) == expected


FACT_PROBLEMS = [
    pytest.param(
        "  tier int\n",
        ("TW116", "'tier' is a word of the policy language, not a fact name"),
        id="reserved-word",
    ),
    pytest.param(
        '  tags list of text split on ""\n',
        ("TW112", "'split on' needs a separator"),
        id="empty-separator",
    ),
    pytest.param(
        '  seen date format "hello"\n',
        ("TW112", "'hello' is not a date format that reads back what it writes"),
        id="format-without-a-date",
    ),
    pytest.param(
        '  seen date format "%Q/%d"\n',
        ("TW112", "'%Q/%d' is not a date format that reads back what it writes"),
        id="unknown-format-code",
    ),
]


@pytest.mark.parametrize(("fact", "expected"), FACT_PROBLEMS)
def test_fact_declarations(fact: str, expected: tuple[str, str]) -> None:
    found = diagnostics(SIZE + TIERS, HEAD + "facts\n" + fact)
    assert [(code, message) for code, message, _, _ in found] == [expected]


def test_a_fact_may_take_a_keyword_that_cannot_be_confused() -> None:
    assert diagnostics(SIZE + TIERS, HEAD + "facts\n  since_date date\n") == []


def test_time_zone_in_the_wrong_case_gets_a_suggestion() -> None:
    head = HEAD.replace("version 1\n", 'version 1\n  time zone "europe/london"\n')
    checked = check_source(head + SIZE + TIERS, "p.grade")
    (diagnostic,) = checked.diagnostics
    assert diagnostic.details[0] == "did you mean 'Europe/London'?"


BUILD_ERRORS = [
    pytest.param(
        'criterion "c" weight 1\n  since within 1.5 months => 1\n',
        "TW112",
        "'1.5' is not a whole number: count periods in whole days, weeks, months or "
        "years",
        id="fractional-period",
    ),
    pytest.param(
        'test "t"\n  as of 2026-01-01\n  as of 2026-02-01\n  expect tier A\n',
        "TW117",
        "test 't' has a second 'as of' line",
        id="two-as-of",
    ),
    pytest.param(
        'criterion "c" weight 1\n  ' + "not " * 3000 + "x => 1\n",
        "TW118",
        "the policy nests parentheses too deeply to read",
        id="absurd-nesting",
    ),
    pytest.param(
        "facts\n  gr\u00f6\u00dfe int\n",
        "TW100",
        "unexpected character '\u00f6'",
        id="non-ascii-name",
    ),
]


@pytest.mark.parametrize(("body", "code", "message"), BUILD_ERRORS)
def test_text_that_parses_but_means_nothing(body: str, code: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        check_source('policy "p" version 1\n' + body, "p.grade")
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.message) == (code, message)


RELATIVE = [
    pytest.param(
        "  since within 90 days => 100\n  since within 30 days => 50\n",
        [12],
        id="shorter-window-after-longer",
    ),
    pytest.param(
        "  since within 30 days => 100\n  since within 90 days => 50\n",
        [],
        id="in-order",
    ),
    pytest.param(
        "  days since since < 30 => 100\n  since within 2 weeks => 50\n",
        [12],
        id="weeks-inside-days-since",
    ),
    pytest.param(
        "  since within 1 months => 100\n  since within 20 days => 50\n",
        [],
        id="months-are-left-alone",
    ),
]


@pytest.mark.parametrize(("branches", "lines"), RELATIVE)
def test_unreachable_relative_dates(branches: str, lines: list[int]) -> None:
    body = 'criterion "c" weight 100\n' + branches + TIERS
    found = [(code, line) for code, _, line, _ in diagnostics(body)]
    assert found == [("TW108", line) for line in lines]


def test_compared_exactly_is_for_text_and_lists() -> None:
    head = HEAD.replace(
        'segment   one of "SMB", "Enterprise"',
        'segment   one of "SMB", "Enterprise" compared exactly',
    )
    found = diagnostics(SIZE + TIERS, head)
    assert [(c, m) for c, m, _, _ in found] == [
        ("TW113", "'compared exactly' only applies to text, and 'segment' is one of "
         "\"SMB\", \"Enterprise\"")
    ]  # fmt: skip
