"""The comments of a policy, found in its source text.

The grammar folds comments into line ends, so the syntax tree has none. The
formatter (which keeps them) and the silencing of lint findings (which reads
them) find them here instead. Strings never span lines and `#` inside quotes
is text, so one pass per line is enough.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tierwise.dsl.diagnostics import source_lines


@dataclass(frozen=True)
class Comment:
    line: int  # 1-based
    column: int  # 1-based, where '#' is
    text: str  # from '#' to the end of the line, trailing spaces removed
    own_line: bool  # nothing but spaces before it


def comments(source: str) -> list[Comment]:
    found = []
    for number, line in enumerate(source_lines(source), start=1):
        column = comment_start(line)
        if column is not None:
            text = line[column:].rstrip()
            own = not line[:column].strip()
            found.append(Comment(number, column + 1, text, own))
    return found


def comment_start(line: str) -> int | None:
    """The index of the `#` that starts a comment in `line`, if any."""
    quoted = False
    index = 0
    while index < len(line):
        char = line[index]
        if quoted and char == "\\":
            index += 2
            continue
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted:
            return index
        index += 1
    return None


_IGNORE = re.compile(r"#\s*ignore\s+(TW\d+(?:\s*,\s*TW\d+)*)\s*(?::\s*(.*))?$")


@dataclass(frozen=True)
class Silence:
    """`# ignore TW201: why` on a line, or alone on the line above it."""

    line: int  # the line whose findings it silences
    codes: tuple[str, ...]
    reason: str
    comment: Comment


def silences(source: str) -> list[Silence]:
    found = []
    for comment in comments(source):
        match = _IGNORE.match(comment.text)
        if match is None:
            continue
        codes = tuple(code.strip() for code in match.group(1).split(","))
        target = comment.line + 1 if comment.own_line else comment.line
        found.append(Silence(target, codes, (match.group(2) or "").strip(), comment))
    return found
