"""The policy language: what parses, into which tree, and how syntax errors read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tierwise.dsl import ast
from tierwise.dsl.diagnostics import render_text
from tierwise.dsl.errors import PolicyError
from tierwise.dsl.parser import parse

FULL = """\
# A comment before the header.
policy "full" version "2.1"
  description "Every construct once"
  owner "revops@example.com"
  time zone "Europe/London"   # trailing comment

facts
  employees  int           from "num. of employees"  no value: "-", "n/a"
  revenue    money         default 0
  industry   text
  sku        text          compared exactly
  segment    one of "SMB", "Enterprise"
  stack      list of text  from "Technologies"  split on ";"
  founded    date          format "%d/%m/%Y"
  seen_at    datetime
  customer   bool          default false

set targets = "Software",
    "Fintech"
constant big = 1000

criterion "Size" weight 60
  employees >= big and not (industry in targets) => 100
  employees between 200 and 999 or revenue / employees > 10 => 50.5
  stack contains any of "a", "b" => 10
  days since founded < 365 and seen_at within next 2 weeks => -20
  otherwise => 0
  missing => -5

criterion "Other" weight 40
  sku = "X-1" => 100

tiers
  "Tier 1" from 50
  "Tier 2" below 50

override "Customers"
  when customer => exclude, reason "account management"
  missing => tier "Tier 2", reason "unknown"

routes, all matching fire
  tier "Tier 1" and industry is not missing => assign "ae", notify "#a"
  tier in "Tier 1", "Tier 2" => tag "graded"
  otherwise => enroll "nurture"

test "big"
  as of 2026-12-01T09:30:00Z
  given employees 5000, stack ["a", "b"],
        revenue missing, customer true
  expect excluded, no actions
"""


@pytest.fixture(scope="module")
def full() -> ast.Policy:
    return parse(FULL, "full.grade")


def test_header(full: ast.Policy) -> None:
    assert (full.name, full.version) == ("full", "2.1")
    assert full.description == "Every construct once"
    assert full.owner == "revops@example.com"
    assert full.time_zone == "Europe/London"


def test_facts_and_their_options(full: ast.Policy) -> None:
    facts = {f.name: f for f in full.facts}
    assert [f.kind for f in full.facts] == [
        "int", "money", "text", "text", "enum", "list", "date", "datetime", "bool"
    ]  # fmt: skip
    assert facts["employees"].source == "num. of employees"
    assert facts["employees"].no_value == ("-", "n/a")
    assert facts["revenue"].default == ast.Literal(Decimal(0), ast.NO_SPAN)
    assert facts["sku"].exact is True
    assert facts["segment"].enum_values == ("SMB", "Enterprise")
    assert facts["stack"].split_on == ";"
    assert facts["founded"].date_format == "%d/%m/%Y"
    assert facts["customer"].default == ast.Literal(False, ast.NO_SPAN)


def test_sets_continue_across_lines_and_constants(full: ast.Policy) -> None:
    assert [i.value for i in full.sets[0].items] == ["Software", "Fintech"]
    assert full.constants[0].value.value == Decimal(1000)


def test_criterion_branches_keep_order_points_and_kinds(full: ast.Policy) -> None:
    size = full.criteria[0]
    assert size.weight == Decimal(60)
    assert [b.kind for b in size.branches] == [
        "when", "when", "when", "when", "otherwise", "missing"
    ]  # fmt: skip
    assert [b.points for b in size.branches] == [
        Decimal(100), Decimal("50.5"), Decimal(10), Decimal(-20), Decimal(0),
        Decimal(-5),
    ]  # fmt: skip


def test_and_binds_tighter_than_or(full: ast.Policy) -> None:
    condition = full.criteria[0].branches[1].condition
    assert isinstance(condition, ast.Or)
    between, compare = condition.operands
    assert isinstance(between, ast.Between)
    assert isinstance(compare, ast.Compare) and compare.op == ">"
    assert isinstance(compare.left, ast.Arithmetic) and compare.left.op == "/"


def test_relative_dates(full: ast.Policy) -> None:
    condition = full.criteria[0].branches[3].condition
    assert isinstance(condition, ast.And)
    since, within = condition.operands
    assert isinstance(since, ast.Compare)
    assert since.left == ast.DaysBetween(
        "days", "since", ast.Name("founded", ast.NO_SPAN), ast.NO_SPAN
    )
    assert within == ast.Within(
        ast.Name("seen_at", ast.NO_SPAN), 2, "weeks", "next", ast.NO_SPAN
    )


def test_tiers_overrides_routes(full: ast.Policy) -> None:
    assert [(t.name, t.bound, t.threshold) for t in full.tiers] == [
        ("Tier 1", "from", Decimal(50)),
        ("Tier 2", "below", Decimal(50)),
    ]
    override = full.overrides[0]
    assert (override.effect.kind, override.effect.reason) == (
        "exclude",
        "account management",
    )
    assert (override.on_missing.kind, override.on_missing.tier) == ("tier", "Tier 2")
    assert full.routes is not None and full.routes.mode == "all"
    assert [len(r.actions) for r in full.routes.routes] == [2, 1, 1]
    assert full.routes.routes[2].condition is None


def test_test_blocks(full: ast.Policy) -> None:
    (case,) = full.tests
    assert case.as_of == dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    given = {g.fact: g.value for g in case.given}
    assert given["revenue"] is None
    assert [i.value for i in given["stack"]] == ["a", "b"]  # type: ignore[union-attr]
    assert [e.kind for e in case.expect] == ["excluded", "no_actions"]


def test_every_node_has_its_source_position(full: ast.Policy) -> None:
    compare = full.criteria[0].branches[0].condition
    assert isinstance(compare, ast.And)
    name = compare.operands[0].left  # type: ignore[union-attr]
    assert name.span == ast.Span(23, 3, 23, 12)
    assert full.criteria[0].span.line == 22
    assert full.tiers[1].span == ast.Span(35, 3, 35, 20)


def test_spans_stop_before_trailing_comments() -> None:
    policy = parse('policy "p" version 1\ntiers\n  A from 1   # top\n  B below 1\n')
    assert policy.tiers[0].span == ast.Span(3, 3, 3, 11)


def test_a_file_without_final_newline_parses() -> None:
    assert parse('policy "p" version 1').name == "p"


def _syntax_error(source: str) -> str:
    with pytest.raises(PolicyError) as caught:
        parse(source, "p.grade")
    (diagnostic,) = caught.value.diagnostics
    return render_text(diagnostic, source.splitlines())


SYNTAX_ERRORS = [
    pytest.param(
        'policy "p" version 1\nfacts\n  a int from\n',
        "p.grade:3:13: error[TW100]: unexpected end of the line\n"
        "     3 |   a int from\n"
        "       |             ^\n"
        '  = expected quoted text ("...")',
        id="missing-column-name",
    ),
    pytest.param(
        'policy "p" version 1\ncriterion "c" weight 1\n  a >= 1 => ten\n',
        "p.grade:3:13: error[TW100]: unexpected 'ten'\n"
        "     3 |   a >= 1 => ten\n"
        "       |             ^^^\n"
        "  = expected -, a number",
        id="points-must-be-a-number",
    ),
    pytest.param(
        'policy "p" version 1\ncriterion "c" weight 1\n  a = 2026-13-01 => 1\n',
        "p.grade:3:7: error[TW112]: '2026-13-01' is not a valid date: "
        "month must be in 1..12\n"
        "     3 |   a = 2026-13-01 => 1\n"
        "       |       ^^^^^^^^^^",
        id="impossible-date",
    ),
    pytest.param(
        'policy "p" version 1\nfacts\n  a int @\n',
        "p.grade:3:9: error[TW100]: unexpected character '@'\n"
        "     3 |   a int @\n"
        "       |         ^",
        id="stray-character",
    ),
]


# Regression: a word starting with a keyword ("defaults", "tiers" where "tier"
# is expected) used to be split into the keyword and a stray fragment.
KEYWORD_PREFIXES = [
    ('policy "p" version 1\nfacts\n  a int defaults 0\n', "'defaults'", 3, 9),
    ('policy "p" version 1\ntest "t"\n  expect tiers A\n', "'tiers'", 3, 10),
    ('policy "p" version 1\nfacts\n  a integer\n', "'integer'", 3, 5),
    ('policy "p" version 1\nroutes\n  tier A => assigns "x"\n', "'assigns'", 3, 13),
]


@pytest.mark.parametrize(("source", "word", "line", "column"), KEYWORD_PREFIXES)
def test_a_word_that_starts_with_a_keyword_is_read_whole(
    source: str, word: str, line: int, column: int
) -> None:
    with pytest.raises(PolicyError) as caught:
        parse(source, "p.grade")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.message == f"unexpected {word}"
    assert (diagnostic.span.line, diagnostic.span.column) == (line, column)


@pytest.mark.parametrize(("source", "expected"), SYNTAX_ERRORS)
def test_syntax_errors_point_at_the_problem(source: str, expected: str) -> None:
    assert _syntax_error(source) == expected


TRIGGERS = [
    ('  tier A => assign "ae"', ("change", None)),
    ('  tier A => assign "ae" on change', ("change", None)),
    ('  tier A => notify "#a" every run', ("every_run", None)),
    ('  tier A => assign "ae", notify "#a" on entering A', ("entering", "A")),
    ('  otherwise => tag "fell" on leaving "Tier 1"', ("leaving", "Tier 1")),
]


@pytest.mark.parametrize(("line", "trigger"), TRIGGERS, ids=lambda v: str(v)[:30])
def test_route_triggers(line: str, trigger: tuple[str, str | None]) -> None:
    policy = parse(f'policy "p" version 1\nroutes\n{line}\n')
    assert policy.routes is not None
    (route,) = policy.routes.routes
    assert (route.trigger.kind, route.trigger.tier) == trigger
