"""The grading semantics settled in PRODUCT.md, pinned one by one."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from typing import Any

import pytest

from tierwise.dsl.errors import TierwiseError
from tierwise.engine.policy import (
    CompiledPolicy,
    RecordError,
    compile_policy,
    resolve_as_of,
)

FACTS = """\
policy "p" version 1
  time zone "America/New_York"
facts
  n        int
  amount   money        no value "-", "n/a"
  rate     number
  label    text
  code     text         compared exactly
  tags     list of text split on ";"
  seg      one of "SMB", "Mid-Market", "Enterprise"
  day      date
  at       datetime
  flag     bool
  visits   int          default 0
"""
TIERS = "tiers\n  A from 50\n  B below 50\n"


def policy(body: str, tiers: str = TIERS) -> CompiledPolicy:
    return compile_policy(FACTS + textwrap.dedent(body) + tiers, "p.grade")


def branch_of(source: str, facts: dict[str, Any], as_of: Any = "2026-12-01") -> str:
    """Which branch of a one-criterion policy fires: '1', 'otherwise' or 'missing'."""
    compiled = policy(
        f'criterion "c" weight 100\n  {source} => 100\n  otherwise => 10\n'
        "  missing => 1\n"
    )
    part = compiled.grade(facts, as_of=as_of).contributions[0]
    return "1" if part.branch == "when" else part.branch


# ---- missing data is unknown, not false ------------------------------------------

MISSING_SPELLINGS = [None, "", "   ", "-", "n/a", " N/A "]


@pytest.mark.parametrize("raw", MISSING_SPELLINGS, ids=repr)
def test_missing_spellings_take_the_missing_branch(raw: Any) -> None:
    assert branch_of("amount > 10", {"amount": raw}) == "missing"


def test_an_absent_field_is_missing() -> None:
    assert branch_of("n > 10", {}) == "missing"


def test_a_known_value_that_matches_nothing_takes_otherwise() -> None:
    assert branch_of("n > 10", {"n": "3"}) == "otherwise"


def test_the_explanation_names_the_missing_facts() -> None:
    compiled = policy('criterion "c" weight 100\n  n > 1 and label = "x" => 100\n')
    part = compiled.grade({"label": "x"}, as_of="2026-12-01").contributions[0]
    assert (part.branch, part.missing, part.points) == ("missing", ("n",), Decimal(0))


def test_a_later_branch_still_fires_when_an_earlier_one_is_unknown() -> None:
    compiled = policy('criterion "c" weight 100\n  n > 1 => 100\n  label = "x" => 50\n')
    part = compiled.grade({"label": "X"}, as_of="2026-12-01").contributions[0]
    assert (part.branch, part.points) == ("when", Decimal(50))


def test_a_default_fills_a_missing_value() -> None:
    assert branch_of("visits = 0", {"visits": ""}) == "1"


def test_is_missing_is_never_unknown() -> None:
    assert branch_of("n is missing", {}) == "1"
    assert branch_of("n is not missing", {}) == "otherwise"


# Kleene's three-valued logic: T true, F false, U unknown (n is missing).
KLEENE = {"T": "n is missing", "F": "n is not missing", "U": "n > 0"}
AND = {"TT": "T", "TF": "F", "TU": "U", "FF": "F", "FU": "F", "UU": "U"}
OR = {"TT": "T", "TF": "T", "TU": "T", "FF": "F", "FU": "U", "UU": "U"}
OUTCOME = {"T": "1", "F": "otherwise", "U": "missing"}


@pytest.mark.parametrize(("pair", "result"), AND.items())
def test_and_follows_kleene(pair: str, result: str) -> None:
    for a, b in (pair, pair[::-1]):
        condition = f"({KLEENE[a]}) and ({KLEENE[b]})"
        assert branch_of(condition, {}) == OUTCOME[result], condition


@pytest.mark.parametrize(("pair", "result"), OR.items())
def test_or_follows_kleene(pair: str, result: str) -> None:
    for a, b in (pair, pair[::-1]):
        condition = f"({KLEENE[a]}) or ({KLEENE[b]})"
        assert branch_of(condition, {}) == OUTCOME[result], condition


@pytest.mark.parametrize(("value", "result"), [("T", "F"), ("F", "T"), ("U", "U")])
def test_not_follows_kleene(value: str, result: str) -> None:
    assert branch_of(f"not ({KLEENE[value]})", {}) == OUTCOME[result]


def test_dividing_by_zero_is_unknown() -> None:
    assert branch_of("amount / n > 1", {"amount": "10", "n": "0"}) == "missing"
    assert branch_of("amount / n > 1", {"amount": "10", "n": "4"}) == "1"


# ---- exact scores ----------------------------------------------------------------


def test_scores_are_exact_at_thresholds() -> None:
    compiled = compile_policy(
        FACTS
        + 'criterion "a" weight 10\n  n > 0 => 1\n'
        + 'criterion "b" weight 20\n  n > 0 => 1\n'
        + 'criterion "c" weight 70\n  n > 0 => 0\n'
        + "tiers\n  A from 0.3\n  B below 0.3\n"
    )
    result = compiled.grade({"n": 1}, as_of="2026-12-01")
    assert result.score == Decimal("0.3")
    assert result.tier == "A"
    assert sum(p.contribution for p in result.contributions) == result.score


def test_contributions_are_weight_times_points_over_100() -> None:
    compiled = policy(
        'criterion "a" weight 33.3\n  n > 0 => 70\n'
        'criterion "b" weight 66.7\n  n > 0 => -15\n'
    )
    result = compiled.grade({"n": 1}, as_of="2026-12-01")
    assert [p.contribution for p in result.contributions] == [
        Decimal("23.31"),
        Decimal("-10.005"),
    ]
    assert result.score == Decimal("13.305")


# ---- text compares as people mean it ---------------------------------------------

TEXT = [
    pytest.param('label = "Software"', " software ", "1", id="case-and-spaces"),
    pytest.param('label = "Société"', "SOCIE\u0301TE\u0301", "1", id="nfd-and-case"),
    pytest.param('label in "a", "B"', "b", "1", id="in-set"),
    pytest.param('label contains "soft"', "Microsoft Corp", "1", id="contains"),
    pytest.param('label != "x"', "X", "otherwise", id="not-equal"),
    pytest.param('code = "X-1"', "x-1", "otherwise", id="exact-keeps-case"),
    pytest.param('code = "X-1"', " X-1 ", "1", id="exact-still-trims"),
    pytest.param('code = "Caf\u00e9"', "Cafe\u0301", "1", id="exact-still-nfc"),
    pytest.param('tags contains "AWS"', "stripe; aws", "1", id="list-contains"),
    pytest.param('tags contains any of "x", "Stripe"', "Stripe;AWS", "1", id="any-of"),
    pytest.param(
        'tags contains all of "aws", "gcp"', "AWS;Stripe", "otherwise", id="all-of"
    ),
    pytest.param('seg = "mid-market"', " MID-MARKET", "1", id="enumeration"),
]


@pytest.mark.parametrize(("condition", "raw", "expected"), TEXT)
def test_text_comparisons(condition: str, raw: str, expected: str) -> None:
    fact = condition.split()[0]
    assert branch_of(condition, {fact: raw}) == expected


# ---- numbers are numbers ---------------------------------------------------------

NUMBERS = [
    pytest.param("n", "1,200", "n = 1200", id="thousands-separator"),
    pytest.param("n", "1200.0", "n = 1200", id="integral-decimal"),
    pytest.param("n", "  75 ", "n > 9", id="not-compared-as-text"),
    pytest.param("amount", "$1,234.50", "amount = 1234.5", id="dollars"),
    pytest.param("amount", "-$22,355.0", "amount = -22355", id="negative-dollars"),
    pytest.param("rate", "0.1", "rate * 3 = 0.3", id="exact-decimal"),
    pytest.param("rate", 0.1, "rate * 3 = 0.3", id="json-float"),
]


@pytest.mark.parametrize(("fact", "raw", "condition"), NUMBERS)
def test_numbers_are_parsed_as_numbers(fact: str, raw: Any, condition: str) -> None:
    assert branch_of(condition, {fact: raw}) == "1"


BAD_VALUES = [
    pytest.param("n", "approx 500", "'approx 500' is not a number", id="words"),
    pytest.param("n", "12.5", "'12.5' is not a whole number", id="fraction-for-int"),
    pytest.param("n", "1,20", "'1,20' is not a number", id="bad-grouping"),
    pytest.param(
        "amount", "unknown", "'unknown' is not an amount of money", id="money"
    ),
    pytest.param(
        "flag",
        "maybe",
        "'maybe' is not yes/no (use true/false, yes/no, y/n or 1/0)",
        id="bool",
    ),
    pytest.param(
        "day",
        "2026-13-01",
        "'2026-13-01' is not a real date (month must be in 1..12)",
        id="impossible-date",
    ),
    pytest.param(
        "day",
        "2026-02-30",
        "'2026-02-30' is not a real date (day is out of range for month)",
        id="february-30",
    ),
    pytest.param(
        "day",
        "last week",
        "'last week' is not a date (YYYY-MM-DD)",
        id="words-for-date",
    ),
    pytest.param(
        "day",
        "0001-01-01T00:00:00+14:00",
        "'0001-01-01T00:00:00+14:00' is not a real date (date value out of range)",
        id="date-before-year-one",
    ),
    pytest.param(
        "n", "1e300000", "'1e300000' is out of range for a number", id="huge-exponent"
    ),
    pytest.param(
        "amount", "1e-99", "'1e-99' is out of range for a number", id="tiny-exponent"
    ),
    pytest.param(
        "label",
        {"first": "Acme"},
        "'{'first': 'Acme'}' is an object, not a single value",
        id="nested-object",
    ),
    pytest.param("n", [1, 2], "'[1, 2]' is a list, not a single value", id="list"),
    pytest.param(
        "seg",
        "Huge",
        '\'Huge\' is not one of "SMB", "Mid-Market", "Enterprise"',
        id="enum",
    ),
    pytest.param("n", "NaN", "'NaN' is not a finite number", id="nan"),
]


@pytest.mark.parametrize(("fact", "raw", "reason"), BAD_VALUES)
def test_unreadable_values_are_rejected_not_zeroed(
    fact: str, raw: Any, reason: str
) -> None:
    compiled = policy('criterion "c" weight 100\n  n > 0 => 100\n')
    with pytest.raises(RecordError) as caught:
        compiled.grade({fact: raw})
    (problem,) = caught.value.problems
    assert (problem.field, problem.value, problem.reason) == (fact, str(raw), reason)


def test_every_bad_field_of_a_record_is_reported() -> None:
    compiled = policy('criterion "c" weight 100\n  n > 0 => 100\n')
    with pytest.raises(RecordError) as caught:
        compiled.grade({"n": "x", "flag": "perhaps"})
    assert [p.field for p in caught.value.problems] == ["n", "flag"]


@pytest.mark.parametrize("raw", ["true", "YES", "y", "1", " True ", True, 1])
def test_true_spellings(raw: Any) -> None:
    assert branch_of("flag", {"flag": raw}) == "1"


@pytest.mark.parametrize("raw", ["false", "No", "N", "0", False, 0])
def test_false_spellings(raw: Any) -> None:
    assert branch_of("flag", {"flag": raw}) == "otherwise"


# ---- time is explicit ------------------------------------------------------------

DATES = [
    pytest.param("day within 30 days", "2026-11-01", "1", id="exactly-30-days-ago"),
    pytest.param("day within 30 days", "2026-10-31", "otherwise", id="31-days-ago"),
    pytest.param(
        "day within 30 days", "2026-12-02", "otherwise", id="future-is-not-past"
    ),
    pytest.param("day within next 2 weeks", "2026-12-15", "1", id="next-two-weeks"),
    pytest.param("day within 1 months", "2026-11-01", "1", id="one-month"),
    pytest.param("days since day = 10", "2026-11-21", "1", id="days-since"),
    pytest.param("days until day = 5", "2026-12-06", "1", id="days-until"),
    pytest.param("years since day = 9", "2016-12-02", "1", id="years-since-birthday"),
    pytest.param("day >= 2026-01-01", "2026-01-01", "1", id="date-literal"),
    pytest.param("at within 1 days", "2026-12-01T12:00:00Z", "1", id="datetime-within"),
    pytest.param(
        "at within 1 days",
        "2026-11-30T12:00:00Z",
        "otherwise",
        id="datetime-day-before",
    ),
    pytest.param(
        "at >= 2026-12-01", "2026-12-01T04:59:00Z", "otherwise", id="local-midnight"
    ),
    pytest.param(
        "at >= 2026-12-01", "2026-12-01T05:00:00Z", "1", id="at-local-midnight"
    ),
]


@pytest.mark.parametrize(("condition", "raw", "expected"), DATES)
def test_relative_dates_count_from_the_as_of(
    condition: str, raw: str, expected: str
) -> None:
    fact = "at" if condition.startswith("at") else "day"
    assert branch_of(condition, {fact: raw}, as_of="2026-12-01") == expected


def test_the_as_of_day_is_taken_in_the_policy_time_zone() -> None:
    # 03:00 UTC on December 1 is still November 30 in New York.
    as_of = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
    assert branch_of("days since day = 0", {"day": "2026-11-30"}, as_of=as_of) == "1"


def test_grading_is_deterministic_given_the_as_of() -> None:
    compiled = policy('criterion "c" weight 100\n  day within 30 days => 100\n')
    first = compiled.grade({"day": "2026-11-15"}, as_of="2026-12-01")
    second = compiled.grade({"day": "2026-11-15"}, as_of="2026-12-01")
    assert first == second
    assert first.as_of == "2026-12-01"


# ---- overrides and routes --------------------------------------------------------

ROUTED = """\
criterion "c" weight 100
  n >= 100 => 100
  otherwise => 0
override "Customers"
  when flag => exclude, reason "account management"
override "Strategic"
  when label = "strategic" => tier A, reason "board decision"
  missing => skip
override "Unknown size"
  when n < 5 => tier B, reason "tiny"
  missing => tier B, reason "size unknown"
"""


@pytest.mark.parametrize(
    ("facts", "tier", "excluded", "override", "on_missing"),
    [
        ({"n": 500, "flag": "yes"}, None, True, "Customers", False),
        ({"n": 50, "label": "Strategic "}, "A", False, "Strategic", False),
        ({"n": 3}, "B", False, "Unknown size", False),
        ({}, "B", False, "Unknown size", True),
        ({"n": 500, "flag": "no"}, "A", False, None, False),
    ],
    ids=["exclude", "force-tier", "first-match-wins", "missing-choice", "none"],
)
def test_overrides(
    facts: dict[str, Any],
    tier: str | None,
    excluded: bool,
    override: str | None,
    on_missing: bool,
) -> None:
    result = policy(ROUTED).grade(facts, as_of="2026-12-01")
    assert (result.tier, result.excluded) == (tier, excluded)
    fired = result.override
    assert (fired.name if fired else None) == override
    assert (fired.on_missing if fired else False) == on_missing


def test_an_override_never_fires_on_unknown() -> None:
    result = policy(ROUTED).grade({"n": 500}, as_of="2026-12-01")
    assert result.override is None and result.tier == "A"


ROUTES = """\
criterion "c" weight 100
  n >= 100 => 100
  otherwise => 0
override "Customers"
  when flag => exclude, reason "am"
routes{mode}
  tier A and label = "x" => assign "special"
  tier A => assign "ae", notify "#a"
  otherwise => enroll "nurture"
"""


@pytest.mark.parametrize(
    ("mode", "facts", "actions"),
    [
        ("", {"n": 500, "label": "X"}, [("assign", "special")]),
        (", first match wins", {"n": 500}, [("assign", "ae"), ("notify", "#a")]),
        (
            ", all matching fire",
            {"n": 500, "label": "x"},
            [("assign", "special"), ("assign", "ae"), ("notify", "#a")],
        ),
        (", all matching fire", {"n": 5}, [("enroll", "nurture")]),
        ("", {"n": 500, "flag": "y"}, []),
    ],
    ids=["first-match-default", "first-match", "all-matching", "otherwise", "excluded"],
)
def test_routes(
    mode: str, facts: dict[str, Any], actions: list[tuple[str, str]]
) -> None:
    result = policy(ROUTES.format(mode=mode)).grade(facts, as_of="2026-12-01")
    assert [(a.kind, a.target) for a in result.actions] == actions


# ---- in-process API --------------------------------------------------------------


def test_grade_many_streams_results_and_rejects_in_order() -> None:
    compiled = policy('criterion "c" weight 100\n  n >= 100 => 100\n')
    records = [{"id": "a", "n": "500"}, {"id": "b", "n": "lots"}, {"id": "c", "n": "5"}]
    out = list(compiled.grade_many(iter(records), as_of="2026-12-01"))
    assert [type(r).__name__ for r in out] == ["GradeResult", "Rejected", "GradeResult"]
    assert [r.id for r in out] == ["a", "b", "c"]
    assert out[1].problems[0].reason == "'lots' is not a number"  # type: ignore[union-attr]


def test_columns_are_matched_by_source_then_loosely() -> None:
    compiled = compile_policy(
        'policy "p" version 1\nfacts\n  employees int from "num. of employees"\n'
        'criterion "c" weight 100\n  employees > 10 => 100\n' + TIERS
    )
    assert compiled.grade({"Num. Of Employees ": "50"}).score == Decimal(100)
    assert compiled.grade({"employees": "50"}).score == Decimal(100)


AS_OF = [
    ("2026-12-01", "2026-12-01"),
    ("20261201", "2026-12-01"),
    ("2026-12-01T10:00Z", "2026-12-01T10:00:00+00:00"),
    ("2026-12-01T10:00:00+01:00", "2026-12-01T10:00:00+01:00"),
]


@pytest.mark.parametrize(("text", "label"), AS_OF)
def test_as_of_spellings(text: str, label: str) -> None:
    assert resolve_as_of(text, dt.UTC).label == label


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-12-01Z", "as-of '2026-12-01Z' is not a date (YYYY-MM-DD) or a date"),
        ("0001-01-15", "as-of 0001-01-15 is out of range (1900 to 9000)"),
        (12345, "as-of 12345 must be a date, a date and time or text"),
    ],
)
def test_bad_as_of_values(value: Any, message: str) -> None:
    with pytest.raises(TierwiseError) as caught:
        resolve_as_of(value, dt.UTC)
    assert str(caught.value).startswith(message)


def test_grade_many_wants_mappings() -> None:
    compiled = policy('criterion "c" weight 100\n  n >= 100 => 100\n')
    with pytest.raises(TierwiseError, match="record 2 is str, not a mapping"):
        list(compiled.grade_many([{"n": 1}, "x"], as_of="2026-12-01"))


def test_a_list_of_values_in_a_condition_may_continue_on_the_next_line() -> None:
    compiled = policy(
        'criterion "c" weight 100\n'
        '  label in "Software",\n           "Fintech" => 100\n'
    )
    assert compiled.grade({"label": "fintech"}, as_of="2026-12-01").score == 100


TRIGGERS = """\
criterion "c" weight 100
  n >= 100 => 100
  otherwise => 0
routes, all matching fire
  tier A => assign "ae"
  tier A => notify "#a" every run
  tier B => tag "entered-a" on entering A
  tier B => tag "left-a" on leaving A
  tier B => tag "b" on entering B
"""


@pytest.mark.parametrize(
    ("n", "previous", "fired"),
    [
        (500, None, ["assign ae", "notify #a"]),
        (500, "A", ["notify #a"]),
        (500, "B", ["assign ae", "notify #a"]),
        (5, None, ["tag b"]),
        (5, "A", ["tag left-a", "tag b"]),
        (5, "B", []),
    ],
    ids=["new-a", "stays-a", "b-to-a", "new-b", "a-to-b", "stays-b"],
)
def test_route_triggers_decide_which_actions_fire(
    n: int, previous: str | None, fired: list[str]
) -> None:
    result = policy(TRIGGERS).grade({"n": n}, as_of="2026-12-01")
    assert [f"{a.kind} {a.target}" for a in result.fired(previous)] == fired
    # every matching route is listed, with when it fires
    assert len(result.actions) == (2 if n >= 100 else 3)


def test_a_datetime_literal_without_offset_is_in_the_policy_time_zone() -> None:
    # Regression: comparing it with a datetime fact raised TypeError.
    compiled = policy('criterion "c" weight 100\n  at >= 2026-11-28T12:00 => 100\n')
    late = compiled.grade({"at": "2026-11-28T17:00Z"}, as_of="2026-12-01")
    early = compiled.grade({"at": "2026-11-28T16:59Z"}, as_of="2026-12-01")
    assert (late.score, early.score) == (100, 0)  # noon in New York is 17:00 UTC
