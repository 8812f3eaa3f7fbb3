"""Problems found in a policy, as data.

A `Diagnostic` has a stable code (for tests, grep and silencing), a message
for people, the span it points at and optional detail lines. Diagnostics are
collected by every stage and rendered once, at the CLI edge, by `render_text`
or `to_json`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from tierwise.dsl.ast import NO_SPAN, Span

Severity = Literal["error", "warning"]

# Stable codes. Tests, documentation and users' scripts refer to these.
SYNTAX = "TW100"
UNKNOWN_NAME = "TW101"
TYPE_MISMATCH = "TW102"
DUPLICATE_NAME = "TW103"
WEIGHTS_NOT_100 = "TW104"
TIERS_UNORDERED = "TW105"
TIERS_OVERLAP = "TW106"
TIERS_GAP = "TW107"
UNREACHABLE_BRANCH = "TW108"
TEST_UNKNOWN_FACT = "TW109"
TEST_UNKNOWN_TIER = "TW110"
BAD_TIME_ZONE = "TW111"
BAD_VALUE = "TW112"
MISPLACED = "TW113"
MISSING_SECTION = "TW114"
DUPLICATE_BRANCH = "TW115"
RESERVED_NAME = "TW116"
TEST_SHAPE = "TW117"
TOO_DEEP = "TW118"

DEFAULT_CAP = 50


@dataclass(frozen=True, order=True)
class Diagnostic:
    span: Span
    code: str
    message: str
    severity: Severity = "error"
    details: tuple[str, ...] = field(default=(), compare=False)
    file: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "details": list(self.details),
        }


def error(code: str, message: str, span: Span = NO_SPAN, *details: str) -> Diagnostic:
    return Diagnostic(span, code, message, "error", details)


def warning(code: str, message: str, span: Span = NO_SPAN, *details: str) -> Diagnostic:
    return Diagnostic(span, code, message, "warning", details)


def did_you_mean(name: str, candidates: Iterable[str]) -> tuple[str, ...]:
    """A 'did you mean' detail line for an unknown name, if one is close."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return (f"did you mean '{close[0]}'?",) if close else ()


def sort_and_cap(
    diagnostics: Iterable[Diagnostic], cap: int = DEFAULT_CAP
) -> tuple[list[Diagnostic], int]:
    """Diagnostics sorted by file and position, at most `cap`, and how many more."""
    ordered = sorted(diagnostics, key=lambda d: (d.file, d.span, d.code))
    return ordered[:cap], max(0, len(ordered) - cap)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)


def source_lines(source: str) -> list[str]:
    """A policy's lines as the parser counts them: split on line feeds only.

    `str.splitlines` also splits on form feeds and Unicode line separators,
    which the parser does not count, and would shift every later line.
    """
    return [line.rstrip("\r") for line in source.split("\n")]


MAX_SHOWN = 160  # a longer source line is shown cut around the caret


def render_text(diagnostic: Diagnostic, source_lines: Sequence[str]) -> str:
    """`file:line:col: severity[code]: message`, the source line and a caret."""
    span = diagnostic.span
    head = f"{diagnostic.file}:{span.line}:{span.column}: "
    head += f"{diagnostic.severity}[{diagnostic.code}]: {diagnostic.message}"
    lines = [head]
    if 1 <= span.line <= len(source_lines):
        text = source_lines[span.line - 1].rstrip("\r\n").expandtabs(1)
        width = 1
        if span.end_line == span.line and span.end_column > span.column:
            width = span.end_column - span.column
        column = span.column
        if len(text) > MAX_SHOWN:
            start = max(0, column - 1 - MAX_SHOWN // 2)
            text = "..." + text[start : start + MAX_SHOWN] + "..."
            column = column - start + 3
            width = min(width, MAX_SHOWN)
        lines.append(f"  {span.line:>4} | {text}")
        lines.append("       | " + " " * (column - 1) + "^" * width)
    lines.extend(f"  = {detail}" for detail in diagnostic.details)
    return "\n".join(lines)
