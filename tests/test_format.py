"""`tierwise fmt`: canonical, comment-keeping, idempotent and meaning-preserving."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from tierwise.cli.main import main
from tierwise.dsl import ast
from tierwise.dsl.format import format_policy, format_source
from tierwise.dsl.parser import keywords, parse

ROOT = Path(__file__).resolve().parents[1]
POLICIES = sorted((ROOT / "policies").glob("*.grade"))

MESSY = """\
# Header comment.
policy "messy" version 1
    owner   "x@example.com"
criterion "Size"   weight 60   # the biggest part
      employees>=1000=>100
  # mid-size companies
  employees between 200 and 999 => 70
  missing => 0
  otherwise => 10
facts
 employees int from "num. of employees"   # headcount
 industry text
set targets = "Software",
   "Fintech"
tiers
 A from 50
   B below 50
routes
  tier A=>assign "ae"
test "t"
  given employees 5000,
        industry "software"
  expect tier A
# The end.
"""

CANONICAL = """\
# Header comment.
policy "messy" version 1
  owner "x@example.com"

facts
  employees  int   from "num. of employees"  # headcount
  industry   text

set targets = "Software", "Fintech"

criterion "Size" weight 60  # the biggest part
  employees >= 1000             => 100
  # mid-size companies
  employees between 200 and 999 => 70
  otherwise                     => 10
  missing                       => 0

tiers
  A from 50
  B below 50

routes, first match wins
  tier A => assign "ae"

test "t"
  given employees 5000, industry "software"
  expect tier A

# The end.
"""


def test_a_messy_policy_gets_the_canonical_layout() -> None:
    assert format_source(MESSY) == CANONICAL


def test_the_canonical_layout_is_stable() -> None:
    assert format_source(CANONICAL) == CANONICAL


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.name)
def test_repository_policies_round_trip(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    formatted = format_source(source)
    assert parse(formatted) == parse(source)
    assert format_source(formatted) == formatted
    assert _comments(formatted) == _comments(source)


def _comments(text: str) -> list[str]:
    from tierwise.dsl.comments import comments

    return [c.text for c in comments(text)]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("not (a or b)", "not (a or b)"),
        ("(a and b) and c", "(a and b) and c"),
        ("a and (b or c)", "a and (b or c)"),
        ("(a or b) or c", "(a or b) or c"),
        ("a - (b - c) > 0", "a - (b - c) > 0"),
        ("(a - b) - c > 0", "a - b - c > 0"),
        ("a * (b + c) > 0", "a * (b + c) > 0"),
        ("-(a + b) < 0", "-(a + b) < 0"),
        ("x > -5", "x > -5"),
        ("days since (d) < 3", "days since d < 3"),
        ("((x))", "x"),
        ("d within 1 years", "d within 1 year"),
    ],
)
def test_parentheses_only_where_meaning_needs_them(
    condition: str, expected: str
) -> None:
    source = f'policy "p" version 1\ncriterion "c" weight 1\n  {condition} => 1\n'
    formatted = format_source(source)
    assert formatted.splitlines()[3] == f"  {expected} => 1"
    assert parse(formatted) == parse(source)


def test_long_lists_wrap_under_their_first_item() -> None:
    names = ", ".join(f'"Industry number {i}"' for i in range(6))
    source = f'policy "p" version 1\nset long = {names}\n'
    assert format_source(source).splitlines()[2:] == [
        'set long = "Industry number 0", "Industry number 1", "Industry number 2",',
        '    "Industry number 3", "Industry number 4", "Industry number 5"',
    ]


# ---- generated policies ------------------------------------------------------------

RESERVED = keywords() | {"int", "number", "money", "text", "bool", "date", "datetime"}
RESERVED |= {
    "assign",
    "enroll",
    "notify",
    "tag",
    "skip",
    "day",
    "week",
    "month",
    "year",
}
RESERVED |= {"days", "weeks", "months", "years"}

names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda n: n not in RESERVED
)
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=12
)
decimals = st.decimals(min_value=-10_000, max_value=10_000, places=2).map(Decimal)
dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31))
datetimes = st.datetimes(
    min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2040, 1, 1)
).map(lambda d: d.replace(microsecond=0, tzinfo=dt.UTC))
values = st.one_of(decimals, text, dates, datetimes, st.booleans())
literals = values.map(lambda v: ast.Literal(v, ast.NO_SPAN))
S = ast.NO_SPAN


def _collections() -> st.SearchStrategy[ast.Collection]:
    literal_sets = st.lists(literals, min_size=1, max_size=3).map(
        lambda items: ast.LiteralSet(tuple(items), S)
    )
    return st.one_of(names.map(lambda n: ast.SetRef(n, S)), literal_sets)


def _negate(operand: ast.Expr) -> ast.Expr:
    """As the parser builds it: a minus before a number is a negative number."""
    if isinstance(operand, ast.Literal) and isinstance(operand.value, Decimal):
        return ast.Literal(-operand.value, S)
    return ast.Negate(operand, S)


def _sums(children: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Expr]:
    ops = st.sampled_from(["+", "-", "*", "/"])
    counts = st.sampled_from([("days", "since"), ("days", "until"), ("years", "since")])
    return st.one_of(
        st.builds(ast.Arithmetic, ops, children, children, st.just(S)),
        children.map(_negate),
        st.builds(lambda c, o: ast.DaysBetween(*c, o, S), counts, children),
    )


atoms = st.one_of(literals, names.map(lambda n: ast.Name(n, S)))
arithmetic = st.recursive(atoms, _sums, max_leaves=4)


def _predicates() -> st.SearchStrategy[ast.Expr]:
    ops = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
    units = st.sampled_from(["days", "weeks", "months", "years"])
    return st.one_of(
        st.builds(ast.Compare, ops, arithmetic, arithmetic, st.just(S)),
        st.builds(ast.Between, arithmetic, arithmetic, arithmetic, st.just(S)),
        st.builds(ast.In, arithmetic, _collections(), st.booleans(), st.just(S)),
        st.builds(
            ast.Contains, arithmetic, st.just("one"), arithmetic, st.none(), st.just(S)
        ),
        st.builds(
            ast.Contains,
            arithmetic,
            st.sampled_from(["any", "all"]),
            st.none(),
            _collections(),
            st.just(S),
        ),
        st.builds(ast.IsMissing, arithmetic, st.booleans(), st.just(S)),
        st.builds(
            ast.Within,
            arithmetic,
            st.integers(0, 400),
            units,
            st.sampled_from(["past", "next"]),
            st.just(S),
        ),
        arithmetic,
    )


def _logic(children: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Expr]:
    many = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(
        st.builds(ast.Not, children, st.just(S)),
        st.builds(ast.And, many, st.just(S)),
        st.builds(ast.Or, many, st.just(S)),
    )


conditions = st.recursive(_predicates(), _logic, max_leaves=5)
tier_names = st.one_of(names, text)


@st.composite
def criteria(draw: st.DrawFn) -> ast.Criterion:
    whens = draw(
        st.lists(
            st.builds(ast.Branch, st.just("when"), conditions, decimals, st.just(S)),
            min_size=1,
            max_size=3,
        )
    )
    finals = [
        ast.Branch(kind, None, draw(decimals), S)
        for kind in ("otherwise", "missing")
        if draw(st.booleans())
    ]
    weight = draw(st.decimals(min_value=0, max_value=1000, places=2))
    return ast.Criterion(draw(text), weight, tuple(whens + finals), S)


@st.composite
def facts(draw: st.DrawFn) -> ast.FactDecl:
    kind = draw(st.sampled_from(["int", "number", "money", "text", "bool", "date",
                                 "datetime", "list", "enum"]))  # fmt: skip
    return ast.FactDecl(
        draw(names),
        kind,
        S,
        enum_values=tuple(draw(st.lists(text, min_size=1, max_size=3)))
        if kind == "enum"
        else (),
        source=draw(st.none() | text),
        default=draw(st.none() | literals),
        no_value=tuple(draw(st.lists(text, max_size=2))),
        split_on=draw(st.none() | text),
        date_format=draw(st.none() | text),
        exact=draw(st.booleans()),
    )


effects = st.one_of(
    st.builds(ast.Effect, st.just("exclude"), st.none(), text, st.just(S)),
    st.builds(ast.Effect, st.just("tier"), tier_names, text, st.just(S)),
)
actions = st.builds(
    ast.Action, st.sampled_from(["assign", "enroll", "notify", "tag"]), text, st.just(S)
)
triggers = st.one_of(
    st.builds(ast.Trigger, st.sampled_from(["change", "every_run"])),
    st.builds(ast.Trigger, st.sampled_from(["entering", "leaving"]), tier_names),
)
route_conditions = st.one_of(
    st.none(),
    conditions,
    st.lists(tier_names, min_size=1, max_size=2).map(lambda t: ast.TierIs(tuple(t), S)),
)
routes = st.builds(
    ast.Routes,
    st.sampled_from(["first", "all"]),
    st.lists(
        st.builds(
            ast.Route,
            route_conditions,
            st.lists(actions, min_size=1, max_size=2).map(tuple),
            st.just(S),
            triggers,
        ),
        min_size=1,
        max_size=3,
    ).map(tuple),
    st.just(S),
)
givens = st.builds(
    ast.Given,
    names,
    st.one_of(st.none(), literals, st.lists(literals, max_size=2).map(tuple)),
    st.just(S),
)
expectations = st.one_of(
    st.builds(ast.Expectation, st.just("tier"), tier=tier_names),
    st.builds(ast.Expectation, st.just("score"), score=decimals),
    st.builds(ast.Expectation, st.sampled_from(["excluded", "no_actions"])),
    st.builds(ast.Expectation, st.just("action"), action=actions),
)


@st.composite
def policy_tests(draw: st.DrawFn) -> ast.TestCase:
    lines = draw(st.lists(st.sampled_from(["as_of", "given", "expect"]), min_size=1))
    return ast.TestCase(
        draw(text),
        draw(st.one_of(dates, datetimes)) if "as_of" in lines else None,
        tuple(draw(st.lists(givens, min_size=1, max_size=3)))
        if "given" in lines
        else (),
        tuple(draw(st.lists(expectations, min_size=1, max_size=3)))
        if "expect" in lines
        else (),
        S,
    )


policies = st.builds(
    ast.Policy,
    name=text,
    version=st.one_of(text, st.from_regex(r"\d{1,3}(\.\d{1,2})?", fullmatch=True)),
    span=st.just(S),
    description=st.none() | text,
    owner=st.none() | text,
    time_zone=st.none() | text,
    facts=st.lists(facts(), max_size=3).map(tuple),
    sets=st.lists(
        st.builds(
            ast.SetDecl,
            names,
            st.lists(literals, min_size=1, max_size=3).map(tuple),
            st.just(S),
        ),
        max_size=2,
    ).map(tuple),
    constants=st.lists(
        st.builds(ast.ConstantDecl, names, literals, st.just(S)), max_size=2
    ).map(tuple),
    criteria=st.lists(criteria(), max_size=3).map(tuple),
    tiers=st.lists(
        st.builds(
            ast.TierLine,
            tier_names,
            st.sampled_from(["from", "below"]),
            decimals,
            st.just(S),
        ),
        max_size=3,
    ).map(tuple),
    overrides=st.lists(
        st.builds(
            ast.Override,
            text,
            conditions,
            effects,
            effects | st.just(ast.Effect("skip", None, None, S)),
            st.just(S),
        ),
        max_size=2,
    ).map(tuple),
    routes=st.none() | routes,
    tests=st.lists(policy_tests(), max_size=2).map(tuple),
)


@settings(max_examples=100, deadline=None)
@given(policies)
def test_formatting_generated_policies_preserves_meaning(policy: ast.Policy) -> None:
    formatted = format_policy(policy)
    assert parse(formatted) == policy
    assert format_source(formatted) == formatted


@pytest.mark.parametrize(
    ("written", "text"),
    [
        (r'"a\rb"', "a\rb"),
        (r'"a\r\nb"', "a\r\nb"),
        (r'"tab\there"', "tab\there"),
        (r'"say \"hi\""', 'say "hi"'),
        (r'"back\\slash"', "back\\slash"),
    ],
)
def test_escaped_strings_read_and_write_back(written: str, text: str) -> None:
    from tierwise.dsl.format import quote

    source = (
        'policy "p" version 1\nfacts\n  t text\ncriterion "C" weight 100\n'
        f"  t = {written} => 100\n  otherwise => 0\n"
        "tiers\n  A from 50\n  B below 50\n"
    )
    policy = parse(source)
    condition = policy.criteria[0].branches[0].condition
    assert isinstance(condition, ast.Compare)
    assert condition.right == ast.Literal(text, condition.right.span)
    assert quote(text) == written
    assert parse(format_policy(policy)) == policy


# ---- the command ---------------------------------------------------------------------


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_fmt_check_lists_files_that_would_change(tmp_path: Path) -> None:
    messy, clean = tmp_path / "messy.grade", tmp_path / "clean.grade"
    messy.write_text(MESSY, "utf-8")
    clean.write_text(CANONICAL, "utf-8")
    result = _run("fmt", "--check", str(tmp_path))
    assert result.exit_code == 1
    assert result.stdout == f"would reformat {messy}\n"
    assert result.stderr == "1 file would be reformatted\n"
    assert messy.read_text("utf-8") == MESSY


def test_fmt_diff_shows_the_change_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "p.grade"
    path.write_text(CANONICAL.replace("  A from 50", "    A from 50"), "utf-8")
    result = _run("fmt", "--diff", str(path))
    assert result.exit_code == 1
    assert "-    A from 50\n+  A from 50\n" in result.stdout
    assert path.read_text("utf-8") != CANONICAL


def test_fmt_rewrites_in_place(tmp_path: Path) -> None:
    path = tmp_path / "p.grade"
    path.write_text(MESSY, "utf-8")
    result = _run("fmt", str(path))
    assert result.exit_code == 0
    assert path.read_text("utf-8") == CANONICAL
    assert _run("fmt", "--check", str(path)).exit_code == 0


def test_fmt_reports_a_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "p.grade"
    path.write_text('policy "p" version 1\nfacts\n  a int from\n', "utf-8")
    result = _run("fmt", str(path))
    assert result.exit_code == 1
    assert f"{path}:3:13: error[TW100]: unexpected end of the line" in result.stderr


def test_repository_policies_are_formatted() -> None:
    result = _run("fmt", "--check", str(ROOT / "policies"))
    assert result.exit_code == 0, result.stdout
