"""Conditions of a policy as SQL expressions, for `tierwise.engine.sql`.

`Emitter` compiles one expression of the policy language over the query's
fact columns and returns it with whether it can be unknown (NULL), as the
per-account compiler (`engine/compile.py`) does: SQL's NULL is tierwise's
unknown, and SQL's AND, OR and NOT follow the same three-valued rules.
Literals are bound, dates for `within` are computed from the as-of, and what
each database spells differently comes from its `Dialect`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from tierwise.dsl import ast
from tierwise.dsl.check import CheckedPolicy
from tierwise.dsl.errors import TierwiseError
from tierwise.dsl.typecheck import text_key
from tierwise.engine import runtime
from tierwise.engine.policy import AsOf
from tierwise.engine.sql_dialects import CE, Dialect


@dataclass
class Emitter:
    """Compiles expressions; each returns (SQL, nullable), as compile.py does."""

    checked: CheckedPolicy
    dialect: Dialect
    facts: dict[str, tuple[CE, bool]]
    as_of: AsOf
    tz: dt.tzinfo
    tz_name: str
    keys: dict[str, CE] = field(default_factory=dict)  # list fact -> its item keys
    tier: CE | None = None  # the tier's name, for routes

    def expr(self, node: ast.Expr) -> tuple[CE, bool]:  # noqa: C901 - one case per node
        match node:
            case ast.Literal(value=value):
                return self._literal(value), False
            case ast.Name(name=name):
                return self._name(name)
            case ast.Negate(operand=operand):
                inner, nullable = self.expr(operand)
                return self.dialect.negate(inner), nullable
            case ast.Arithmetic():
                return self._arithmetic(node)
            case ast.DaysBetween():
                return self._days_between(node)
            case ast.Compare():
                return self._compare(node)
            case ast.Between(operand=o, low=lo, high=hi):
                return self._between(o, lo, hi)
            case ast.In():
                return self._in(node)
            case ast.Contains():
                return self._contains(node)
            case ast.IsMissing(operand=operand, negated=negated):
                return self._is_missing(operand, negated), False
            case ast.Within():
                return self._within(node)
            case ast.TierIs(tiers=names) if self.tier is not None:
                return self.tier.in_([self.dialect.literal(n) for n in names]), False
            case ast.Not(operand=operand):
                inner, nullable = self.expr(operand)
                return sa.not_(inner), nullable
            case ast.And(operands=ops) | ast.Or(operands=ops):
                parts = [self.expr(op) for op in ops]
                join = sa.and_ if isinstance(node, ast.And) else sa.or_
                return join(*(p for p, _ in parts)), any(n for _, n in parts)
        raise TierwiseError(f"'{type(node).__name__}' cannot be graded in SQL here")

    # ---- names and literals --------------------------------------------------

    def _literal(self, value: Any) -> CE:
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=self.tz)  # read in the policy's zone
        return self.dialect.literal(value)

    def _name(self, name: str) -> tuple[CE, bool]:
        scope = self.checked.scope
        if name in scope.constants:
            return self._literal(scope.constants[name].value.value), False
        return self.facts[name]

    def _family(self, node: ast.Expr) -> str:
        return self.checked.type_of(node).family

    def _exact(self, node: ast.Expr) -> bool:
        if isinstance(node, ast.Name) and node.name in self.checked.scope.facts:
            return self.checked.scope.facts[node.name].exact
        return False

    def _constant(self, node: ast.Expr) -> Any:
        if isinstance(node, ast.Literal):
            return node.value
        if isinstance(node, ast.Name) and node.name in self.checked.scope.constants:
            return self.checked.scope.constants[node.name].value.value
        return None

    # ---- numbers and dates ---------------------------------------------------

    def _arithmetic(self, node: ast.Arithmetic) -> tuple[CE, bool]:
        (left, a), (right, b) = self.expr(node.left), self.expr(node.right)
        value = self.dialect.arithmetic(node.op, left, right)
        return value, a or b or node.op == "/"

    def _local_day(self, node: ast.Expr) -> tuple[CE, bool]:
        value, nullable = self.expr(node)
        if self._family(node) == "datetime":
            return self.dialect.local_date(value, self.tz_name), nullable
        return value, nullable

    def _days_between(self, node: ast.DaysBetween) -> tuple[CE, bool]:
        day, nullable = self._local_day(node.operand)
        today = self.dialect.literal(self.as_of.today)
        early, late = (day, today) if node.direction == "since" else (today, day)
        if node.unit == "days":
            return self.dialect.days_between(early, late), nullable
        return self._whole_years(early, late, node.direction), nullable

    def _whole_years(self, early: CE, late: CE, direction: str) -> CE:
        """Whole years from `early` to `late`, as a birthday counts age."""
        d = self.dialect
        ey, em, ed = (d.date_part(early, p) for p in ("year", "month", "day"))
        ly, lm, ld = (d.date_part(late, p) for p in ("year", "month", "day"))
        before = sa.or_(lm < em, sa.and_(lm == em, ld < ed))
        years = ly - ey - sa.case((before, 1), else_=0)
        return d.whole(years)

    def _as_datetime(self, node: ast.Expr) -> tuple[CE, bool]:
        """A date compared with a date and time stands for its local midnight."""
        if self._family(node) == "datetime":
            return self.expr(node)
        value = self._constant(node)
        if isinstance(value, dt.date):
            midnight = dt.datetime.combine(value, dt.time(), self.tz)
            return self.dialect.literal(midnight), False
        day, nullable = self.expr(node)
        return self.dialect.local_midnight(day, self.tz_name), nullable

    def _within(self, node: ast.Within) -> tuple[CE, bool]:
        temporal = self._family(node.operand)
        anchor = self.as_of.today if temporal == "date" else self.as_of.now
        sign = -1 if node.direction == "past" else 1
        edge = runtime.shift(anchor, sign * node.amount, node.unit)
        low, high = (edge, anchor) if sign < 0 else (anchor, edge)
        value, nullable = self.expr(node.operand)
        d = self.dialect
        return value.between(d.literal(low), d.literal(high)), nullable

    # ---- comparisons -----------------------------------------------------------

    def _comparable(self, node: ast.Expr, other: ast.Expr) -> tuple[CE, bool]:
        mine, theirs = self._family(node), self._family(other)
        if "text" in (mine, theirs):
            value = self._constant(node)
            if isinstance(value, str):
                exact = self._exact(node) or self._exact(other)
                return self.dialect.literal(text_key(value, exact)), False
            return self.expr(node)
        if {mine, theirs} == {"date", "datetime"}:
            return self._as_datetime(node)
        return self.expr(node)

    def _compare(self, node: ast.Compare) -> tuple[CE, bool]:
        if self._family(node.left) == "list":
            raise self.dialect.unsupported("comparing two lists with '='")
        left, a = self._comparable(node.left, node.right)
        right, b = self._comparable(node.right, node.left)
        family = self._family(node.left)
        return self.dialect.compare(node.op, left, right, family), a or b

    def _between(
        self, operand: ast.Expr, low: ast.Expr, high: ast.Expr
    ) -> tuple[CE, bool]:
        value, a = self._comparable(operand, low)
        lo, b = self._comparable(low, operand)
        hi, c = self._comparable(high, operand)
        family = self._family(operand)
        d = self.dialect
        inside = sa.and_(
            d.compare("<=", lo, value, family), d.compare("<=", value, hi, family)
        )
        if b or c:  # an unknown bound makes the whole test unknown
            unknown = sa.or_(value.is_(None), lo.is_(None), hi.is_(None))
            inside = sa.case((unknown, sa.null()), else_=inside)
        return inside, a or b or c

    def _items(self, operand: ast.Expr, collection: ast.Collection | None) -> list[Any]:
        if isinstance(collection, ast.SetRef):
            items = [i.value for i in self.checked.scope.sets[collection.name].items]
        else:
            assert collection is not None
            items = [item.value for item in collection.items]
        if self._family(operand) in ("text", "list"):
            exact = self._exact(operand)
            return [text_key(str(i), exact) for i in items]
        return items

    def _in(self, node: ast.In) -> tuple[CE, bool]:
        value, nullable = self.expr(node.operand)
        items = self._items(node.operand, node.collection)
        family = self._family(node.operand)
        if family in ("date", "datetime") and _mixes_dates(family, items):
            # Python's date and datetime are never equal: nothing matches.
            found: CE = sa.literal(node.negated, sa.Boolean())
            return sa.case((value.is_(None), sa.null()), else_=found), nullable
        literals = [self._literal(i) for i in items]
        test = value.not_in(literals) if node.negated else value.in_(literals)
        return test, nullable

    def _contains(self, node: ast.Contains) -> tuple[CE, bool]:
        container, nullable = self.expr(node.operand)
        exact = self._exact(node.operand)
        if node.mode == "one":
            assert node.item is not None
            item, item_nullable = self._comparable(node.item, node.operand)
            if self._family(node.operand) == "text":
                found = self.dialect.text_contains(container, item)
                return found, nullable or item_nullable
            found = self._list_has(node.operand, container, item, exact)
            return self._guard(found, container, nullable), nullable or item_nullable
        keys = {k for k in self._items(node.operand, node.collection)}
        found = self._list_keys(node, container, exact, keys)
        return self._guard(found, container, nullable), nullable

    def _list_has(self, operand: ast.Expr, items: CE, item: CE, exact: bool) -> CE:
        fact = self.checked.scope.facts[getattr(operand, "name", "")]
        if isinstance(item.type, sa.Text) and self._constant_text(item) == "":
            return sa.false()
        if fact.name in self.keys:
            return self.dialect.keys_have(self.keys[fact.name], item)
        return self.dialect.list_has(items, fact.split_on or ",", exact, item)

    @staticmethod
    def _constant_text(item: CE) -> Any:
        return getattr(item, "value", None)

    def _list_keys(
        self, node: ast.Contains, items: CE, exact: bool, keys: set[str]
    ) -> CE:
        fact = self.checked.scope.facts[getattr(node.operand, "name", "")]
        separator = fact.split_on or ","
        wanted = sorted(keys - {""})
        found = self.keys.get(fact.name)
        if node.mode == "all":
            if "" in keys:
                return sa.false()  # an empty item is never in a list
            if found is not None and wanted:
                return self.dialect.keys_have_all(found, wanted)
            return self.dialect.list_has_all(items, separator, exact, wanted)
        if not wanted:
            return sa.false()
        if found is not None:
            return self.dialect.keys_have_any(found, wanted)
        return self.dialect.list_has_any(items, separator, exact, wanted)

    @staticmethod
    def _guard(found: CE, container: CE, nullable: bool) -> CE:
        if not nullable:
            return found
        return sa.case((container.is_(None), sa.null()), else_=found)

    def _is_missing(self, operand: ast.Expr, negated: bool) -> CE:
        value, nullable = self.expr(operand)
        if not nullable:  # a fact with a default is never missing
            return sa.true() if negated else sa.false()
        return value.is_not(None) if negated else value.is_(None)


def _mixes_dates(family: str, items: list[Any]) -> bool:
    return any(isinstance(i, dt.datetime) != (family == "datetime") for i in items)
