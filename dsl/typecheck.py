"""Type inference for conditions and expressions.

`Scope` knows the policy's facts, sets, constants and tiers; `TypeChecker`
walks an expression, records the type of every node and reports what it has
against what it wants ("have text, want number"), unknown names with a "did
you mean", and constructs used where they mean nothing (a tier test inside a
criterion).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from tierwise.dsl import ast
from tierwise.dsl import diagnostics as dg
from tierwise.dsl import types as ty


@dataclass
class Scope:
    facts: dict[str, ast.FactDecl]
    fact_types: dict[str, ty.Type]
    sets: dict[str, ast.SetDecl]
    set_types: dict[str, ty.Type]
    constants: dict[str, ast.ConstantDecl]
    tiers: tuple[str, ...]

    def names(self) -> list[str]:
        return [*self.facts, *self.constants]


def literal_type(value: ast.Value) -> ty.Type:
    if isinstance(value, bool):
        return ty.BOOL
    if isinstance(value, Decimal):
        return ty.INT if value == value.to_integral_value() else ty.NUMBER
    if isinstance(value, dt.datetime):
        return ty.DATETIME
    if isinstance(value, dt.date):
        return ty.DATE
    return ty.TEXT


@dataclass
class TypeChecker:
    scope: Scope
    types: dict[int, ty.Type] = field(default_factory=dict)
    found: list[dg.Diagnostic] = field(default_factory=list)
    allow_tiers: bool = False

    def condition(self, expr: ast.Expr, *, allow_tiers: bool = False) -> None:
        """Check `expr` where a yes/no condition is wanted."""
        self.allow_tiers = allow_tiers
        got = self.infer(expr)
        self._want(expr, got, "bool", "a condition must be true or false")

    def infer(self, expr: ast.Expr) -> ty.Type:
        result = self._infer(expr)
        self.types[id(expr)] = result
        return result

    # ---- reporting ---------------------------------------------------------

    def _report(self, code: str, message: str, span: ast.Span, *details: str) -> None:
        self.found.append(dg.error(code, message, span, *details))

    def _want(self, expr: ast.Expr, got: ty.Type, family: str, why: str) -> bool:
        if got is ty.ERROR or got.family == family:
            return True
        want = ty.describe_family(family)
        self._report(dg.TYPE_MISMATCH, f"have {got}, want {want}: {why}", expr.span)
        return False

    # ---- inference ---------------------------------------------------------

    def _infer(self, expr: ast.Expr) -> ty.Type:  # noqa: C901 - one case per node
        match expr:
            case ast.Literal(value=value):
                return literal_type(value)
            case ast.Name():
                return self._name(expr)
            case ast.Negate(operand=operand):
                self._want(
                    operand, self.infer(operand), "numeric", "only numbers negate"
                )
                return ty.NUMBER
            case ast.Arithmetic():
                return self._arithmetic(expr)
            case ast.DaysBetween(operand=operand):
                got = self.infer(operand)
                if got is not ty.ERROR and not ty.is_temporal(got):
                    self._report(
                        dg.TYPE_MISMATCH,
                        f"have {got}, want date: '{expr.unit} {expr.direction}' "
                        "counts from a date",
                        operand.span,
                    )
                return ty.INT
            case ast.Compare():
                return self._compare(expr)
            case ast.Between(operand=o, low=lo, high=hi):
                self._ordered(o, lo, "between")
                self._ordered(o, hi, "between")
                return ty.BOOL
            case ast.In():
                self._membership(expr.operand, expr.collection, "in")
                return ty.BOOL
            case ast.Contains():
                return self._contains(expr)
            case ast.IsMissing(operand=operand):
                self.infer(operand)
                return ty.BOOL
            case ast.Within(operand=operand):
                got = self.infer(operand)
                if got is not ty.ERROR and not ty.is_temporal(got):
                    self._report(
                        dg.TYPE_MISMATCH,
                        f"have {got}, want date: 'within' needs a date",
                        operand.span,
                    )
                return ty.BOOL
            case ast.TierIs():
                return self._tier_is(expr)
            case ast.Not(operand=operand):
                self._want(
                    operand, self.infer(operand), "bool", "'not' needs a condition"
                )
                return ty.BOOL
            case ast.And(operands=ops) | ast.Or(operands=ops):
                word = "and" if isinstance(expr, ast.And) else "or"
                for op in ops:
                    self._want(op, self.infer(op), "bool", f"'{word}' joins conditions")
                return ty.BOOL
        raise AssertionError(f"unhandled expression {expr!r}")

    def _name(self, expr: ast.Name) -> ty.Type:
        scope = self.scope
        if expr.name in scope.fact_types:
            return scope.fact_types[expr.name]
        if expr.name in scope.constants:
            return literal_type(scope.constants[expr.name].value.value)
        if expr.name in scope.sets:
            self._report(
                dg.TYPE_MISMATCH,
                f"'{expr.name}' is a set, not a single value",
                expr.span,
                f"test membership with 'in {expr.name}'",
            )
            return ty.ERROR
        self._report(
            dg.UNKNOWN_NAME,
            f"unknown fact '{expr.name}'",
            expr.span,
            *dg.did_you_mean(expr.name, scope.names()),
        )
        return ty.ERROR

    def _arithmetic(self, expr: ast.Arithmetic) -> ty.Type:
        for side in (expr.left, expr.right):
            self._want(
                side, self.infer(side), "numeric", f"'{expr.op}' works on numbers"
            )
        return ty.NUMBER

    def _compare(self, expr: ast.Compare) -> ty.Type:
        if expr.op in ("=", "!="):
            left, right = self.infer(expr.left), self.infer(expr.right)
            if not ty.comparable(left, right):
                self._report(
                    dg.TYPE_MISMATCH,
                    f"cannot compare {left} with {right}",
                    expr.span,
                    f"have {right}, want {ty.describe_family(left.family)}",
                )
            else:
                self._enum_value(expr.left, left, expr.right)
                self._enum_value(expr.right, right, expr.left)
            return ty.BOOL
        self._ordered(expr.left, expr.right, expr.op)
        return ty.BOOL

    def _ordered(self, left: ast.Expr, right: ast.Expr, op: str) -> None:
        a, b = self.infer(left), self.infer(right)
        for side, got in ((left, a), (right, b)):
            if not ty.orderable(got):
                self._report(
                    dg.TYPE_MISMATCH,
                    f"have {got}, want number or date: '{op}' needs an order",
                    side.span,
                )
                return
        if not ty.comparable(a, b):
            self._report(
                dg.TYPE_MISMATCH,
                f"cannot compare {a} with {b}",
                right.span,
                f"have {b}, want {ty.describe_family(a.family)}",
            )

    def _membership(
        self, operand: ast.Expr, collection: ast.Collection, op: str
    ) -> None:
        got = self.infer(operand)
        element = self._collection(collection)
        if element is None or got is ty.ERROR:
            return
        if got.family == "list":
            self._report(
                dg.TYPE_MISMATCH,
                "have list of text, want a single value: use 'contains any of' "
                "with a list",
                operand.span,
            )
            return
        if not ty.comparable(got, element):
            self._report(
                dg.TYPE_MISMATCH,
                f"cannot look for {got} in a set of {element}",
                collection.span,
                f"have {element}, want {ty.describe_family(got.family)}",
            )
            return
        for item in ast.collection_items(collection):
            self._enum_value(operand, got, item)

    def _collection(self, collection: ast.Collection | None) -> ty.Type | None:
        if isinstance(collection, ast.SetRef):
            if collection.name in self.scope.set_types:
                return self.scope.set_types[collection.name]
            self._report(
                dg.UNKNOWN_NAME,
                f"unknown set '{collection.name}'",
                collection.span,
                *dg.did_you_mean(collection.name, self.scope.sets),
            )
            return None
        if collection is None:
            return None
        item_types = {self.infer(item) for item in collection.items}
        families = {t.family for t in item_types}
        if len(families) > 1:
            self._report(
                dg.TYPE_MISMATCH,
                "a list mixes "
                + " and ".join(sorted(ty.describe_family(f) for f in families)),
                collection.span,
            )
            return None
        return next(iter(item_types))

    def _contains(self, expr: ast.Contains) -> ty.Type:
        got = self.infer(expr.operand)
        if expr.mode == "one":
            assert expr.item is not None
            item = self.infer(expr.item)
            if got is not ty.ERROR and got.family not in ("list", "text"):
                self._report(
                    dg.TYPE_MISMATCH,
                    f"have {got}, want text or list of text: 'contains' looks "
                    "inside text or a list",
                    expr.operand.span,
                )
            else:
                self._want(expr.item, item, "text", "'contains' looks for text")
            return ty.BOOL
        element = self._collection(expr.collection)
        if got is not ty.ERROR and got.family != "list":
            self._report(
                dg.TYPE_MISMATCH,
                f"have {got}, want list of text: "
                f"'contains {expr.mode} of' needs a list",
                expr.operand.span,
            )
        elif element is not None and element.family != "text":
            self._report(
                dg.TYPE_MISMATCH,
                f"have {element}, want text: a list holds text",
                expr.span,
            )
        return ty.BOOL

    def _tier_is(self, expr: ast.TierIs) -> ty.Type:
        if not self.allow_tiers:
            self._report(
                dg.MISPLACED,
                "a tier test only works in routes",
                expr.span,
                "criteria and overrides decide the tier; they cannot read it",
            )
            return ty.BOOL
        for name in expr.tiers:
            if name not in self.scope.tiers:
                self._report(
                    dg.UNKNOWN_NAME,
                    f"unknown tier '{name}'",
                    expr.span,
                    *dg.did_you_mean(name, self.scope.tiers),
                )
        return ty.BOOL

    def _enum_value(self, fact: ast.Expr, fact_type: ty.Type, value: ast.Expr) -> None:
        """A literal compared with an enumeration must be one of its values."""
        if not fact_type.values or not isinstance(value, ast.Literal):
            return
        allowed = {normalize_text(v) for v in fact_type.values}
        if not isinstance(value.value, str) or normalize_text(value.value) in allowed:
            return
        self._report(
            dg.BAD_VALUE,
            f"'{value.value}' is not one of the values of "
            f"'{getattr(fact, 'name', fact_type)}'",
            value.span,
            "allowed: " + ", ".join(f'"{v}"' for v in fact_type.values),
            *dg.did_you_mean(value.value, fact_type.values),
        )


def normalize_text(text: str) -> str:
    """Text as people mean it: trimmed, Unicode NFC, case-folded."""
    return unicodedata.normalize("NFC", text.strip()).casefold()


def text_key(value: str, exact: bool) -> str:
    """How text is compared: as people mean it, or exactly.

    Exactly keeps case; it still trims and NFC-normalizes, because text that
    looks the same (an accent typed as one character or as two) is the same.
    """
    if exact:
        return unicodedata.normalize("NFC", value.strip())
    return normalize_text(value)
