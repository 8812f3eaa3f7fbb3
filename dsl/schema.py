"""The JSON Schema of the account records a policy reads.

Teams that send accounts to tierwise can validate their records against it
before a run. Each property is an input field (a fact's `from` column, or its
name) and accepts what tierwise reads for that fact: typed JSON values, the
text spellings of them a CSV export would contain, the fact's "no value"
spellings, and null. No field is required, because a missing fact is
unknown, not an error. Patterns are approximations of the reading rules; the
rules themselves (engine/coerce.py) have the last word.
"""

from __future__ import annotations

from typing import Any

from tierwise.dsl import ast
from tierwise.dsl.types import FALSE_WORDS, TRUE_WORDS

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_SPACE = r"\s*"
_INT = r"[+-]?(\d+|\d{1,3}(,\d{3})+)(\.0+)?"
_NUMBER = r"[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?([eE][+-]?\d+)?|[+-]?\.\d+"
_MONEY = r"[+-]?\s*[$€£¥]?\s*-?(" + _NUMBER + ")"
_DATE = r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
_DATETIME = _DATE + r"([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?"


def facts_schema(policy: ast.Policy) -> dict[str, Any]:
    properties = {}
    for fact in policy.facts:
        properties[fact.source or fact.name] = _property(fact)
    return {
        "$schema": DIALECT,
        "title": f"Accounts read by policy {policy.name} version {policy.version}",
        "type": "object",
        "properties": properties,
        "additionalProperties": True,
    }


def _property(fact: ast.FactDecl) -> dict[str, Any]:
    choices: list[dict[str, Any]] = [{"type": "null"}, _blank()]
    if fact.no_value:
        choices.append(_text("|".join(_any_case(_escape(v)) for v in fact.no_value)))
    choices += _values(fact)
    return {
        "description": f"fact '{fact.name}': {_kind(fact)}",
        "anyOf": choices,
    }


def _values(fact: ast.FactDecl) -> list[dict[str, Any]]:
    kind = fact.kind
    if kind == "int":
        return [{"type": "integer"}, _text(_INT)]
    if kind == "number":
        return [{"type": "number"}, _text(_NUMBER)]
    if kind == "money":
        return [{"type": "number"}, _text(_MONEY)]
    if kind == "bool":
        words = "|".join(_any_case(w) for w in sorted(TRUE_WORDS | FALSE_WORDS))
        return [{"type": "boolean"}, {"enum": [0, 1]}, _text(words)]
    if kind in ("date", "datetime"):
        if fact.date_format:
            return [{"type": "string", "description": f"format {fact.date_format}"}]
        return [_text(_DATE if kind == "date" else _DATETIME)]
    if kind == "list":
        return [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]
    if kind == "enum":
        words = "|".join(_any_case(_escape(v)) for v in fact.enum_values)
        return [_text(words)]
    return [{"type": "string"}, {"type": "number"}]


def _text(pattern: str) -> dict[str, Any]:
    return {"type": "string", "pattern": f"^{_SPACE}({pattern}){_SPACE}$"}


def _blank() -> dict[str, Any]:
    return {"type": "string", "pattern": r"^\s*$"}


def _any_case(word: str) -> str:
    """A pattern matching `word` in any case (JSON Schema patterns have no flags)."""
    return "".join(
        f"[{c.lower()}{c.upper()}]" if c.lower() != c.upper() else c for c in word
    )


def _escape(text: str) -> str:
    return "".join("\\" + c if c in r"\.^$|?*+()[]{}/" else c for c in text)


def _kind(fact: ast.FactDecl) -> str:
    if fact.kind == "list":
        return f"list of text, split on '{fact.split_on or ','}'"
    if fact.kind == "enum":
        return "one of " + ", ".join(fact.enum_values) + " (any case)"
    return fact.kind
