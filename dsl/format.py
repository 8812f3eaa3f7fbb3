"""One canonical layout for policies, comments kept.

`format_policy` rewrites a policy from its syntax tree: blocks in a fixed
order (header, facts, sets and constants, criteria, tiers, overrides, routes,
tests) separated by one blank line, two-space indentation, and the columns of
facts, branches, tiers and routes aligned. Each comment stays with the line it
was written on, or the line it was written above. The result parses to the
same tree as the input, and formatting it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from tierwise.dsl import ast
from tierwise.dsl.comments import Comment, comments
from tierwise.dsl.parser import keywords, parse

INDENT = "  "
WIDTH = 88  # lists longer than this wrap, one continuation line per overflow
# Columns are aligned, but one very long cell (a long enumeration, a long
# condition) does not push every other row to the right.
TYPE_COLUMN = 16
SOURCE_COLUMN = 32
CONDITION_COLUMN = 48
_NUMBER = re.compile(r"^\d+(_\d+)*(\.\d+)?$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def format_source(source: str, path: str = "<policy>") -> str:
    """The canonical text of a policy; raises `PolicyError` on a syntax error."""
    return format_policy(parse(source, path), source)


def format_policy(policy: ast.Policy, source: str = "") -> str:
    layout = _Layout()
    _header(layout, policy)
    _facts(layout, policy)
    _declarations(layout, policy)
    for criterion in policy.criteria:
        _criterion(layout, criterion)
    _tiers(layout, policy)
    for override in policy.overrides:
        _override(layout, override)
    _routes(layout, policy.routes)
    for test in policy.tests:
        _test(layout, test)
    return layout.render(comments(source))


# ---- layout ---------------------------------------------------------------------


@dataclass
class _Line:
    text: str
    source_line: int  # 0 when the line has no source position
    blank_before: bool = False
    leading: list[str] = field(default_factory=list)
    trailing: list[str] = field(default_factory=list)


@dataclass
class _Layout:
    lines: list[_Line] = field(default_factory=list)

    def add(self, text: str, span: ast.Span, *, block: bool = False) -> None:
        self.lines.append(_Line(text, span.line, blank_before=block))

    def aligned(self, rows: list[tuple[str, str, ast.Span]], sep: str) -> None:
        """Indented rows whose first column is padded so `sep` lines up."""
        width = _width((left for left, _, _ in rows), CONDITION_COLUMN)
        for left, right, span in rows:
            self.add(f"{INDENT}{left.ljust(width)}{sep}{right}".rstrip(), span)

    def render(self, found: list[Comment]) -> str:
        tail = self._attach(found)
        out: list[str] = []
        for index, line in enumerate(self.lines):
            if line.blank_before and index > 0:
                out.append("")
            indent = INDENT if line.text.startswith(INDENT) else ""
            out.extend(indent + text for text in line.leading)
            trailing = "  ".join(line.trailing)
            out.append(f"{line.text}  {trailing}" if trailing else line.text)
        if tail:
            out.append("")
            out.extend(tail)
        return "\n".join(out) + "\n"

    def _attach(self, found: list[Comment]) -> list[str]:
        """Give each comment to the line it trails or precedes; return the rest."""
        positioned = sorted(
            (line for line in self.lines if line.source_line),
            key=lambda x: x.source_line,
        )
        starts = [line.source_line for line in positioned]
        tail: list[str] = []
        for comment in found:
            owner = _owner(starts, comment)
            if owner is None:
                tail.append(comment.text)
            elif comment.own_line or positioned[owner].source_line > comment.line:
                positioned[owner].leading.append(comment.text)
            else:
                positioned[owner].trailing.append(comment.text)
        return tail


def _owner(starts: list[int], comment: Comment) -> int | None:
    """The line a comment belongs to: the one it is on, or the next one."""
    if not comment.own_line:
        candidates = [i for i, start in enumerate(starts) if start <= comment.line]
        if candidates:
            return candidates[-1]
    following = [i for i, start in enumerate(starts) if start >= comment.line]
    return following[0] if following else None


# ---- blocks ---------------------------------------------------------------------


def _header(layout: _Layout, policy: ast.Policy) -> None:
    version = policy.version if _NUMBER.match(policy.version) else quote(policy.version)
    layout.add(f"policy {quote(policy.name)} version {version}", policy.span)
    if policy.description is not None:
        layout.add(
            f"{INDENT}description {quote(policy.description)}", policy.description_span
        )
    if policy.owner is not None:
        layout.add(f"{INDENT}owner {quote(policy.owner)}", policy.owner_span)
    if policy.time_zone is not None:
        layout.add(
            f"{INDENT}time zone {quote(policy.time_zone)}", policy.time_zone_span
        )


def _facts(layout: _Layout, policy: ast.Policy) -> None:
    if not policy.facts:
        return
    layout.add("facts", policy.facts_span, block=True)
    rows = [
        (fact.name, _fact_type(fact), _fact_source(fact), _fact_options(fact))
        for fact in policy.facts
    ]
    name_width = max(len(row[0]) for row in rows)
    type_width = _width((row[1] for row in rows), TYPE_COLUMN)
    source_width = _width((row[2] for row in rows), SOURCE_COLUMN)
    for (name, kind, source, options), fact in zip(rows, policy.facts):
        columns = [name.ljust(name_width), kind.ljust(type_width)]
        columns.append(source.ljust(source_width) if options else source)
        layout.add((INDENT + "  ".join([*columns, options])).rstrip(), fact.span)


def _width(cells: Iterable[str], cap: int) -> int:
    """The widest cell no wider than `cap`: wider cells stick out alone."""
    return max((len(cell) for cell in cells if len(cell) <= cap), default=0)


def _fact_type(fact: ast.FactDecl) -> str:
    if fact.kind == "list":
        return "list of text"
    if fact.kind == "enum":
        return "one of " + ", ".join(quote(v) for v in fact.enum_values)
    return fact.kind


def _fact_source(fact: ast.FactDecl) -> str:
    return "" if fact.source is None else f"from {quote(fact.source)}"


def _fact_options(fact: ast.FactDecl) -> str:
    options = []
    if fact.default is not None:
        options.append(f"default {literal(fact.default.value)}")
    if fact.no_value:
        options.append("no value " + ", ".join(quote(v) for v in fact.no_value))
    if fact.split_on is not None:
        options.append(f"split on {quote(fact.split_on)}")
    if fact.date_format is not None:
        options.append(f"format {quote(fact.date_format)}")
    if fact.exact:
        options.append("compared exactly")
    return "  ".join(options)


def _declarations(layout: _Layout, policy: ast.Policy) -> None:
    declared: list[tuple[int, str, ast.Span]] = [
        (
            s.span.line,
            wrap(f"set {s.name} = ", [literal(i.value) for i in s.items], 4),
            s.span,
        )
        for s in policy.sets
    ]
    declared += [
        (c.span.line, f"constant {c.name} = {literal(c.value.value)}", c.span)
        for c in policy.constants
    ]
    for index, (_, text, span) in enumerate(sorted(declared, key=lambda d: d[0])):
        layout.add(text, span, block=index == 0)


def _criterion(layout: _Layout, criterion: ast.Criterion) -> None:
    weight = number(criterion.weight)
    layout.add(
        f"criterion {quote(criterion.name)} weight {weight}", criterion.span, block=True
    )
    ordered = sorted(
        criterion.branches, key=lambda b: ("when", "otherwise", "missing").index(b.kind)
    )
    rows = [
        (
            condition(b.condition) if b.condition is not None else b.kind,
            number(b.points),
            b.span,
        )
        for b in ordered
    ]
    layout.aligned(rows, " => ")


def _tiers(layout: _Layout, policy: ast.Policy) -> None:
    if not policy.tiers:
        return
    layout.add("tiers", policy.tiers_span, block=True)
    rows = [
        (tier_name(t.name), f"{t.bound} {number(t.threshold)}", t.span)
        for t in policy.tiers
    ]
    layout.aligned(rows, " ")


def _override(layout: _Layout, override: ast.Override) -> None:
    layout.add(f"override {quote(override.name)}", override.span, block=True)
    when = f"{INDENT}when {condition(override.condition)} => {_effect(override.effect)}"
    layout.add(when, override.condition.span)
    if override.on_missing.kind != "skip":
        layout.add(
            f"{INDENT}missing => {_effect(override.on_missing)}",
            override.on_missing.span,
        )


def _effect(effect: ast.Effect) -> str:
    if effect.kind == "exclude":
        return f"exclude, reason {quote(effect.reason or '')}"
    if effect.kind == "tier":
        return (
            f"tier {tier_name(effect.tier or '')}, reason {quote(effect.reason or '')}"
        )
    return "skip"


def _routes(layout: _Layout, routes: ast.Routes | None) -> None:
    if routes is None:
        return
    mode = "first match wins" if routes.mode == "first" else "all matching fire"
    layout.add(f"routes, {mode}", routes.span, block=True)
    rows = []
    for route in routes.routes:
        left = "otherwise" if route.condition is None else condition(route.condition)
        actions = ", ".join(action(a) for a in route.actions)
        rows.append((left, actions + _trigger(route.trigger), route.span))
    layout.aligned(rows, " => ")


def _trigger(trigger: ast.Trigger) -> str:
    if trigger.kind == "every_run":
        return " every run"
    if trigger.kind in ("entering", "leaving"):
        return f" on {trigger.kind} {tier_name(trigger.tier or '')}"
    return ""


def _test(layout: _Layout, test: ast.TestCase) -> None:
    layout.add(f"test {quote(test.name)}", test.span, block=True)
    if test.as_of is not None:
        layout.add(f"{INDENT}as of {literal(test.as_of)}", test.as_of_span)
    if test.given:
        given = [f"{g.fact} {_given_value(g.value)}" for g in test.given]
        layout.add(wrap(f"{INDENT}given ", given), test.given[0].span)
    if test.expect:
        expect = [_expectation(e) for e in test.expect]
        layout.add(wrap(f"{INDENT}expect ", expect), test.expect[0].span)


def _given_value(value: ast.Literal | tuple[ast.Literal, ...] | None) -> str:
    if value is None:
        return "missing"
    if isinstance(value, tuple):
        return "[" + _values(value) + "]"
    return literal(value.value)


def _expectation(expectation: ast.Expectation) -> str:
    if expectation.kind == "tier":
        return f"tier {tier_name(expectation.tier or '')}"
    if expectation.kind == "score":
        return f"score {number(expectation.score or Decimal(0))}"
    if expectation.kind == "no_actions":
        return "no actions"
    if expectation.kind == "excluded":
        return "excluded"
    assert expectation.action is not None
    return action(expectation.action)


def wrap(head: str, items: list[str], indent: int | None = None) -> str:
    """`head` and comma-separated `items`, continued on new lines past WIDTH.

    Continuation lines start under the first item, or `indent` spaces in.
    """
    pad = " " * (len(head) if indent is None else indent)
    lines, current = [], head
    for index, item in enumerate(items):
        piece = item + ("," if index < len(items) - 1 else "")
        if current not in (head, pad) and len(current) + 1 + len(piece) > WIDTH:
            lines.append(current)
            current = pad
        current += piece if current in (head, pad) else " " + piece
    lines.append(current)
    return "\n".join(lines)


def action(node: ast.Action) -> str:
    return f"{node.kind} {quote(node.target)}"


# ---- expressions ----------------------------------------------------------------

# How tightly each kind of expression binds; a child that binds less tightly
# than its place requires is put in parentheses.
_OR, _AND, _NOT, _PREDICATE, _SUM, _PRODUCT, _UNARY, _ATOM = range(1, 9)


def condition(node: ast.Expr) -> str:
    return _expr(node)


def _precedence(node: ast.Expr) -> int:
    match node:
        case ast.Or():
            return _OR
        case ast.And():
            return _AND
        case ast.Not():
            return _NOT
        case ast.Arithmetic(op=op):
            return _SUM if op in "+-" else _PRODUCT
        case ast.Negate():
            return _UNARY
        case ast.Literal(value=Decimal() as value) if value.is_signed():
            return _UNARY  # written with a leading minus
        case ast.Literal() | ast.Name() | ast.DaysBetween():
            return _ATOM
    return _PREDICATE


def _wrap(node: ast.Expr, minimum: int) -> str:
    text = _expr(node)
    return f"({text})" if _precedence(node) < minimum else text


def _expr(node: ast.Expr) -> str:  # noqa: C901 - one case per node
    match node:
        case ast.Literal(value=value):
            return literal(value)
        case ast.Name(name=name):
            return name
        case ast.Negate(operand=operand):
            return "-" + _wrap(operand, _UNARY)
        case ast.Arithmetic(op=op, left=left, right=right):
            level = _SUM if op in "+-" else _PRODUCT
            return f"{_wrap(left, level)} {op} {_wrap(right, level + 1)}"
        case ast.DaysBetween(unit=unit, direction=direction, operand=operand):
            return f"{unit} {direction} {_wrap(operand, _ATOM)}"
        case ast.Compare(op=op, left=left, right=right):
            return f"{_wrap(left, _SUM)} {op} {_wrap(right, _SUM)}"
        case ast.Between(operand=operand, low=low, high=high):
            bounds = f"{_wrap(low, _SUM)} and {_wrap(high, _SUM)}"
            return f"{_wrap(operand, _SUM)} between {bounds}"
        case ast.In(operand=operand, collection=collection, negated=negated):
            word = "not in" if negated else "in"
            return f"{_wrap(operand, _SUM)} {word} {_collection(collection)}"
        case ast.Contains(operand=operand, mode="one", item=item):
            assert item is not None
            return f"{_wrap(operand, _SUM)} contains {_wrap(item, _SUM)}"
        case ast.Contains(operand=operand, mode=mode, collection=collection):
            assert collection is not None
            return (
                f"{_wrap(operand, _SUM)} contains {mode} of {_collection(collection)}"
            )
        case ast.IsMissing(operand=operand, negated=negated):
            return f"{_wrap(operand, _SUM)} is {'not ' if negated else ''}missing"
        case ast.Within(operand=operand, amount=amount, unit=unit, direction=direction):
            ahead = "next " if direction == "next" else ""
            unit_word = unit[:-1] if amount == 1 else unit  # "1 year", "2 years"
            return f"{_wrap(operand, _SUM)} within {ahead}{amount} {unit_word}"
        case ast.TierIs(tiers=tiers):
            if len(tiers) == 1:
                return f"tier {tier_name(tiers[0])}"
            return "tier in " + ", ".join(tier_name(t) for t in tiers)
        case ast.Not(operand=operand):
            return "not " + _wrap(operand, _NOT)
        case ast.And(operands=operands):
            return " and ".join(_wrap(o, _NOT) for o in operands)
        case ast.Or(operands=operands):
            return " or ".join(_wrap(o, _AND) for o in operands)
    raise AssertionError(f"unhandled expression {node!r}")


def _collection(collection: ast.Collection) -> str:
    if isinstance(collection, ast.SetRef):
        return collection.name
    return _values(collection.items)


# ---- literals -------------------------------------------------------------------


def _values(items: tuple[ast.Literal, ...]) -> str:
    return ", ".join(literal(item.value) for item in items)


def literal(value: ast.Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return quote(value)


def number(value: Decimal) -> str:
    """A decimal as written in a policy: no exponent, sign only when negative."""
    return format(value, "f")


def quote(text: str) -> str:
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\t", "\\t")
        .replace("\r", "\\r")
    )
    return f'"{escaped}"'


def tier_name(name: str) -> str:
    """A tier name bare when it can be, quoted when it must be."""
    if _NAME.match(name) and name not in keywords():
        return name
    return quote(name)
