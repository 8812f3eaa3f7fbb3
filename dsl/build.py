"""Lark parse tree to the typed syntax tree in `ast`.

One method per grammar rule, each turning its children (already built) into
an `ast` node with the rule's span. The result is purely structural; names,
types and consistency are the checker's job.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import lark
from lark import Token, v_args

from tierwise.dsl import ast


def build_policy(tree: lark.Tree[Token], source: str) -> ast.Policy:
    return _Builder(source).transform(tree)  # type: ignore[no-any-return]


class BadLiteral(Exception):
    """Text that parses but means nothing, such as the date 2026-13-01."""

    def __init__(self, message: str, span: ast.Span, code: str = "TW112"):
        super().__init__(message)
        self.span = span
        self.code = code


class _Source:
    """Turns Lark's positions into spans that end at the last real character.

    A rule that ends a line swallows the newline and any trailing comment;
    its span should not, or a caret would underline nothing.
    """

    def __init__(self, text: str):
        self.text = text
        self.line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def span(self, item: Any) -> ast.Span:
        if isinstance(item, Token):
            return ast.Span(item.line, item.column, item.end_line, item.end_column)  # type: ignore[arg-type]
        if isinstance(item, lark.tree.Meta):
            if getattr(item, "empty", True):
                return ast.NO_SPAN
            end = self._last_significant(item.start_pos, item.end_pos)
            line, column = self._position(end)
            return ast.Span(item.line, item.column, line, column)
        return getattr(item, "span", ast.NO_SPAN)

    def _last_significant(self, start: int, end: int) -> int:
        last, quoted, index = start, False, start
        while index < end:
            char = self.text[index]
            if quoted and char == "\\":
                index += 1
            elif char == '"':
                quoted = not quoted
            elif char == "#" and not quoted:
                index = self.text.find("\n", index, end)
                if index < 0:
                    break
            if quoted or not self.text[index].isspace():
                last = index + 1
            index += 1
        return last

    def _position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset - 1) if offset else 1
        return line, offset - self.line_starts[line - 1] + 1


def unquote(token: Token) -> str:
    """The text of a STRING token, quotes removed and escapes read:
    \\" \\\\ \\n \\t \\r."""
    body = str(token)[1:-1]
    out, chars = [], iter(body)
    for char in chars:
        if char == "\\":
            nxt = next(chars, "")
            out.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
        else:
            out.append(char)
    return "".join(out)


def number(token: Token) -> Decimal:
    return Decimal(str(token).replace("_", ""))


def parse_datetime(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00"))
    return value


@v_args(meta=True)
class _Builder(lark.Transformer):  # type: ignore[type-arg]
    def __init__(self, source: str):
        super().__init__()
        self._source = _Source(source)

    def _span(self, item: Any) -> ast.Span:
        return self._source.span(item)

    # ---- literals ----------------------------------------------------------

    def number(self, meta: Any, c: list[Any]) -> ast.Literal:
        return ast.Literal(number(c[0]), self._span(c[0]))

    def negative_number(self, meta: Any, c: list[Any]) -> ast.Literal:
        return ast.Literal(-number(c[1]), self._span(meta))

    def string(self, meta: Any, c: list[Any]) -> ast.Literal:
        return ast.Literal(unquote(c[0]), self._span(c[0]))

    def date(self, meta: Any, c: list[Any]) -> ast.Literal:
        return ast.Literal(self._date(c[0]), self._span(c[0]))

    def datetime(self, meta: Any, c: list[Any]) -> ast.Literal:
        return ast.Literal(self._date(c[0]), self._span(c[0]))

    def _date(self, token: Token) -> dt.date:
        try:
            if token.type == "DATE":
                return dt.date.fromisoformat(str(token))
            return parse_datetime(str(token))
        except ValueError as exc:
            raise BadLiteral(
                f"'{token}' is not a valid date: {exc}", self._span(token)
            ) from None

    def true(self, meta: Any, c: list[Any]) -> ast.Literal:
        return ast.Literal(True, self._span(meta))

    def false(self, meta: Any, c: list[Any]) -> ast.Literal:
        return ast.Literal(False, self._span(meta))

    def literal_list(self, meta: Any, c: list[Any]) -> tuple[ast.Literal, ...]:
        return tuple(c)

    def signed_number(self, meta: Any, c: list[Any]) -> tuple[Decimal, ast.Span]:
        value = number(c[-1])
        return (-value if len(c) == 2 else value), self._span(meta)

    # ---- header ------------------------------------------------------------

    def version(self, meta: Any, c: list[Any]) -> str:
        token = c[0]
        return unquote(token) if token.type == "STRING" else str(token)

    def description(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return "description", (unquote(c[0]), self._span(meta))

    def owner(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return "owner", (unquote(c[0]), self._span(meta))

    def time_zone(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return "time_zone", (unquote(c[0]), self._span(c[0]))

    def header(self, meta: Any, c: list[Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {"name": unquote(c[0]), "version": c[1]}
        fields["span"] = self._span(c[0])
        for key, (value, span) in c[2:]:
            fields[key], fields[f"{key}_span"] = value, span
        return fields

    # ---- facts, sets, constants --------------------------------------------

    def simple_type(self, meta: Any, c: list[Any]) -> tuple[str, tuple[str, ...]]:
        return str(c[0]), ()

    def list_type(self, meta: Any, c: list[Any]) -> tuple[str, tuple[str, ...]]:
        return "list", ()

    def enum_type(self, meta: Any, c: list[Any]) -> tuple[str, tuple[Any, ...]]:
        return "enum", c[0]

    def source(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return "source", unquote(c[0])

    def default(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return "default", c[0]

    def no_value(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return "no_value", tuple(str(item.value) for item in c[0])

    def split_on(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return "split_on", unquote(c[0])

    def date_format(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return "date_format", unquote(c[0])

    def exact(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return "exact", True

    def fact_decl(self, meta: Any, c: list[Any]) -> ast.FactDecl:
        kind, enum_items = c[1]
        options = dict(c[2:])
        enum_values = tuple(str(item.value) for item in enum_items)
        return ast.FactDecl(
            str(c[0]), kind, self._span(c[0]), enum_values=enum_values, **options
        )

    def facts(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return "facts", (tuple(c), self._span(meta))

    def set_decl(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return "sets", ast.SetDecl(str(c[0]), c[1], self._span(c[0]))

    def constant_decl(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return "constants", ast.ConstantDecl(str(c[0]), c[1], self._span(c[0]))

    # ---- criteria and tiers ------------------------------------------------

    def branch(self, meta: Any, c: list[Any]) -> ast.Branch:
        points, _ = c[1]
        return ast.Branch("when", c[0], points, self._span(c[0]))

    def otherwise_branch(self, meta: Any, c: list[Any]) -> ast.Branch:
        return ast.Branch("otherwise", None, c[0][0], self._span(meta))

    def missing_branch(self, meta: Any, c: list[Any]) -> ast.Branch:
        return ast.Branch("missing", None, c[0][0], self._span(meta))

    def criterion(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        node = ast.Criterion(
            unquote(c[0]), number(c[1]), tuple(c[2:]), self._span(c[0])
        )
        return "criteria", node

    def tier_name(self, meta: Any, c: list[Any]) -> Token:
        token = c[0]
        text = unquote(token) if token.type == "STRING" else str(token)
        return Token(
            "TIER",
            text,
            token.start_pos,
            token.line,
            token.column,
            token.end_line,
            token.end_column,
            token.end_pos,
        )

    def tier_from(self, meta: Any, c: list[Any]) -> ast.TierLine:
        return ast.TierLine(str(c[0]), "from", c[1][0], self._span(meta))

    def tier_below(self, meta: Any, c: list[Any]) -> ast.TierLine:
        return ast.TierLine(str(c[0]), "below", c[1][0], self._span(meta))

    def tiers(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return "tiers", (tuple(c), self._span(meta))

    # ---- overrides and routes ----------------------------------------------

    def exclude_effect(self, meta: Any, c: list[Any]) -> ast.Effect:
        return ast.Effect("exclude", None, unquote(c[0]), self._span(meta))

    def tier_effect(self, meta: Any, c: list[Any]) -> ast.Effect:
        return ast.Effect("tier", str(c[0]), unquote(c[1]), self._span(meta))

    def override_missing(self, meta: Any, c: list[Any]) -> ast.Effect:
        if isinstance(c[0], Token):  # skip
            return ast.Effect("skip", None, None, self._span(meta))
        return c[0]  # type: ignore[no-any-return]

    def override(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        name, condition, effect = unquote(c[0]), c[1], c[2]
        on_missing = c[3] if len(c) > 3 else ast.Effect("skip", None, None, ast.NO_SPAN)
        node = ast.Override(name, condition, effect, on_missing, self._span(c[0]))
        return "overrides", node

    def action(self, meta: Any, c: list[Any]) -> ast.Action:
        return ast.Action(str(c[0]), unquote(c[1]), self._span(meta))  # type: ignore[arg-type]

    def actions(self, meta: Any, c: list[Any]) -> tuple[ast.Action, ...]:
        return tuple(c)

    def route(self, meta: Any, c: list[Any]) -> ast.Route:
        trigger = c[2] if len(c) > 2 else ast.ON_CHANGE
        return ast.Route(c[0], c[1], self._span(meta), trigger)

    def otherwise_route(self, meta: Any, c: list[Any]) -> ast.Route:
        trigger = c[1] if len(c) > 1 else ast.ON_CHANGE
        return ast.Route(None, c[0], self._span(meta), trigger)

    def every_run(self, meta: Any, c: list[Any]) -> ast.Trigger:
        return ast.Trigger("every_run", None, self._span(meta))

    def on_change(self, meta: Any, c: list[Any]) -> ast.Trigger:
        return ast.Trigger("change", None, self._span(meta))

    def on_entering(self, meta: Any, c: list[Any]) -> ast.Trigger:
        return ast.Trigger("entering", str(c[0]), self._span(meta))

    def on_leaving(self, meta: Any, c: list[Any]) -> ast.Trigger:
        return ast.Trigger("leaving", str(c[0]), self._span(meta))

    def first_match(self, meta: Any, c: list[Any]) -> str:
        return "first"

    def all_matching(self, meta: Any, c: list[Any]) -> str:
        return "all"

    def routes(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        mode = c[0] if isinstance(c[0], str) else "first"
        routes = tuple(item for item in c if isinstance(item, ast.Route))
        return "routes", ast.Routes(mode, routes, self._span(meta))  # type: ignore[arg-type]

    # ---- tests -------------------------------------------------------------

    def list_value(self, meta: Any, c: list[Any]) -> tuple[ast.Literal, ...]:
        return tuple(c)

    def missing_value(self, meta: Any, c: list[Any]) -> None:
        return None

    def given(self, meta: Any, c: list[Any]) -> ast.Given:
        value = c[1] if len(c) > 1 else None
        return ast.Given(str(c[0]), value, self._span(c[0]))

    def test_as_of(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return "as_of", (self._date(c[0]), self._span(meta))

    def test_given(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return "given", tuple(c)

    def test_expect(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return "expect", tuple(c)

    def expect_tier(self, meta: Any, c: list[Any]) -> ast.Expectation:
        return ast.Expectation("tier", tier=str(c[0]), span=self._span(meta))

    def expect_excluded(self, meta: Any, c: list[Any]) -> ast.Expectation:
        return ast.Expectation("excluded", span=self._span(meta))

    def expect_score(self, meta: Any, c: list[Any]) -> ast.Expectation:
        return ast.Expectation("score", score=c[0][0], span=self._span(meta))

    def expect_no_actions(self, meta: Any, c: list[Any]) -> ast.Expectation:
        return ast.Expectation("no_actions", span=self._span(meta))

    def expect_action(self, meta: Any, c: list[Any]) -> ast.Expectation:
        return ast.Expectation("action", action=c[0], span=self._span(meta))

    def test(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        as_of, as_of_span = None, ast.NO_SPAN
        given: list[ast.Given] = []
        expect: list[ast.Expectation] = []
        for key, value in c[1:]:
            if key == "as_of":
                if as_of is not None:
                    raise BadLiteral(
                        f"test '{unquote(c[0])}' has a second 'as of' line",
                        value[1],
                        "TW117",
                    )
                as_of, as_of_span = value
            elif key == "given":
                given.extend(value)
            else:
                expect.extend(value)
        node = ast.TestCase(
            unquote(c[0]),
            as_of,
            tuple(given),
            tuple(expect),
            self._span(c[0]),
            as_of_span,
        )
        return "tests", node

    # ---- expressions -------------------------------------------------------

    def name(self, meta: Any, c: list[Any]) -> ast.Name:
        return ast.Name(str(c[0]), self._span(c[0]))

    def negate(self, meta: Any, c: list[Any]) -> ast.Expr:
        operand = c[1]
        if isinstance(operand, ast.Literal) and isinstance(operand.value, Decimal):
            return ast.Literal(-operand.value, self._span(meta))
        return ast.Negate(operand, self._span(meta))

    def arithmetic(self, meta: Any, c: list[Any]) -> ast.Arithmetic:
        return ast.Arithmetic(str(c[1]), c[0], c[2], self._span(meta))  # type: ignore[arg-type]

    def days_since(self, meta: Any, c: list[Any]) -> ast.DaysBetween:
        return ast.DaysBetween("days", "since", c[0], self._span(meta))

    def days_until(self, meta: Any, c: list[Any]) -> ast.DaysBetween:
        return ast.DaysBetween("days", "until", c[0], self._span(meta))

    def years_since(self, meta: Any, c: list[Any]) -> ast.DaysBetween:
        return ast.DaysBetween("years", "since", c[0], self._span(meta))

    def set_ref(self, meta: Any, c: list[Any]) -> ast.SetRef:
        return ast.SetRef(str(c[0]), self._span(c[0]))

    def literal_collection(self, meta: Any, c: list[Any]) -> ast.LiteralSet:
        return ast.LiteralSet(tuple(c), self._span(meta))

    def compare(self, meta: Any, c: list[Any]) -> ast.Compare:
        return ast.Compare(str(c[1]), c[0], c[2], self._span(meta))  # type: ignore[arg-type]

    def between(self, meta: Any, c: list[Any]) -> ast.Between:
        return ast.Between(c[0], c[1], c[2], self._span(meta))

    def in_(self, meta: Any, c: list[Any]) -> ast.In:
        return ast.In(c[0], c[1], False, self._span(meta))

    def not_in(self, meta: Any, c: list[Any]) -> ast.In:
        return ast.In(c[0], c[1], True, self._span(meta))

    def contains(self, meta: Any, c: list[Any]) -> ast.Contains:
        return ast.Contains(c[0], "one", c[1], None, self._span(meta))

    def contains_any(self, meta: Any, c: list[Any]) -> ast.Contains:
        return ast.Contains(c[0], "any", None, c[1], self._span(meta))

    def contains_all(self, meta: Any, c: list[Any]) -> ast.Contains:
        return ast.Contains(c[0], "all", None, c[1], self._span(meta))

    def is_missing(self, meta: Any, c: list[Any]) -> ast.IsMissing:
        return ast.IsMissing(c[0], False, self._span(meta))

    def is_not_missing(self, meta: Any, c: list[Any]) -> ast.IsMissing:
        return ast.IsMissing(c[0], True, self._span(meta))

    def within_past(self, meta: Any, c: list[Any]) -> ast.Within:
        amount = self._whole(c[1])
        return ast.Within(c[0], amount, _unit(c[2]), "past", self._span(meta))

    def within_next(self, meta: Any, c: list[Any]) -> ast.Within:
        amount = self._whole(c[1])
        return ast.Within(c[0], amount, _unit(c[2]), "next", self._span(meta))

    def _whole(self, token: Token) -> int:
        value = number(token)
        if value != value.to_integral_value():
            raise BadLiteral(
                f"'{token}' is not a whole number: count periods in whole days, "
                "weeks, months or years",
                self._span(token),
            )
        return int(value)

    def tier_is(self, meta: Any, c: list[Any]) -> ast.TierIs:
        return ast.TierIs((str(c[0]),), self._span(meta))

    def tier_in(self, meta: Any, c: list[Any]) -> ast.TierIs:
        return ast.TierIs(tuple(str(t) for t in c), self._span(meta))

    def not_(self, meta: Any, c: list[Any]) -> ast.Not:
        return ast.Not(c[0], self._span(meta))

    def and_condition(self, meta: Any, c: list[Any]) -> ast.And:
        return ast.And(tuple(c), self._span(meta))

    def or_condition(self, meta: Any, c: list[Any]) -> ast.Or:
        return ast.Or(tuple(c), self._span(meta))

    # ---- the whole policy --------------------------------------------------

    def start(self, meta: Any, c: list[Any]) -> ast.Policy:
        header, sections = c[0], c[1:]
        grouped: dict[str, list[Any]] = {}
        for key, group in itertools.groupby(sections, key=lambda item: item[0]):
            grouped.setdefault(key, []).extend(value for _, value in group)
        fields = dict(header)
        fact_blocks = grouped.get("facts", [])
        fields["facts"] = tuple(f for block, _ in fact_blocks for f in block)
        if fact_blocks:
            fields["facts_span"] = fact_blocks[0][1]
        for key in ("sets", "constants", "criteria", "overrides", "tests"):
            fields[key] = tuple(grouped.get(key, []))
        tier_blocks = grouped.get("tiers", [])
        if tier_blocks:
            fields["tiers"], fields["tiers_span"] = tier_blocks[0]
        route_blocks = grouped.get("routes", [])
        if route_blocks:
            fields["routes"] = route_blocks[0]
        fields["repeated_blocks"] = tuple(
            [("tiers", span) for _, span in tier_blocks[1:]]
            + [("routes", block.span) for block in route_blocks[1:]]
        )
        return ast.Policy(**fields)


def _unit(token: Token) -> Any:
    text = str(token)
    return text if text.endswith("s") else text + "s"
