"""Source text to syntax tree: the only module that talks to Lark.

The grammar lives in `grammar.lark` beside this file. The parser is built
once per process (and its tables cached on disk by Lark between processes) so
that checking a policy spends its time checking. Syntax errors become
`Diagnostic`s with code TW100, worded for people who write rubrics, not
grammars.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import lark

from tierwise.dsl import ast
from tierwise.dsl.build import BadLiteral, build_policy
from tierwise.dsl.diagnostics import (
    SYNTAX,
    TOO_DEEP,
    Diagnostic,
    error,
    source_lines,
)
from tierwise.dsl.errors import PolicyError

_GRAMMAR = Path(__file__).with_name("grammar.lark")

# How a terminal is described in a syntax error.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'quoted text ("...")',
    "NUMBER": "a number",
    "DATE": "a date (YYYY-MM-DD)",
    "DATETIME": "a date and time",
    "_NL": "the end of the line",
    "$END": "the end of the file",
    "COMPARATOR": "a comparison (=, !=, <, <=, >, >=)",
    "ADD_OP": "+ or -",
    "MUL_OP": "* or /",
    "SIGN": "-",
    "UNIT": "days, weeks, months or years",
    "TYPE_NAME": "a type (int, number, money, text, bool, date, datetime)",
    "ACTION_KIND": "an action (assign, enroll, notify, tag)",
    "SKIP": "skip",
}


class _WholeWords:
    """Lets the lexer see a NAME in every state.

    Lark's contextual lexer only tries the terminals the parser accepts next;
    where a keyword is expected but NAME is not, `defaults` would lex as the
    keyword `default` plus a stray `s`. With NAME always on offer, the whole
    word is read, keywords are recognised only as whole words, and an error
    quotes the word the analyst wrote.
    """

    always_accept = ("NAME",)

    def process(self, stream: Iterator[lark.Token]) -> Iterator[lark.Token]:
        return stream


@functools.cache
def _parser() -> lark.Lark:
    return lark.Lark(
        _GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=False,
        postlex=_WholeWords(),
        cache=True,
    )


def parse(source: str, path: str = "<policy>") -> ast.Policy:
    """Parse policy text into a `Policy` tree; raise `PolicyError` on bad syntax.

    >>> parse('policy "demo" version 1').name
    'demo'
    """
    if not source.endswith("\n"):
        source += "\n"
    try:
        tree = _parser().parse(source)
    except lark.exceptions.UnexpectedInput as exc:
        diagnostic = _syntax_diagnostic(exc, source)
        raise PolicyError(path, source, [_with_file(diagnostic, path)]) from None
    try:
        return build_policy(tree, source)
    except lark.exceptions.VisitError as exc:
        if not isinstance(exc.orig_exc, BadLiteral):
            raise
        bad = exc.orig_exc
        diagnostic = error(bad.code, str(bad), bad.span)
        raise PolicyError(path, source, [_with_file(diagnostic, path)]) from None
    except RecursionError:
        diagnostic = error(
            TOO_DEEP,
            "the policy nests parentheses too deeply to read",
            ast.Span(1, 1, 1, 1),
        )
        raise PolicyError(path, source, [_with_file(diagnostic, path)]) from None


def _with_file(diagnostic: Diagnostic, path: str) -> Diagnostic:
    return Diagnostic(
        diagnostic.span,
        diagnostic.code,
        diagnostic.message,
        diagnostic.severity,
        diagnostic.details,
        path,
    )


def _syntax_diagnostic(exc: lark.exceptions.UnexpectedInput, source: str) -> Diagnostic:
    line, column = exc.line, exc.column
    if line is None or line < 1:  # unexpected end of input
        lines = source_lines(source.rstrip("\n")) or [""]
        line, column = len(lines), len(lines[-1]) + 1
    details: tuple[str, ...] = ()
    if isinstance(exc, lark.exceptions.UnexpectedCharacters):
        char = source[exc.pos_in_stream or 0]
        found = f"unexpected character {char!r}"
        width = 1
        if char.isalpha():
            details = ("names use the letters a-z and A-Z, digits and _",)
    elif isinstance(exc, lark.exceptions.UnexpectedToken):
        found = f"unexpected {_describe_token(exc.token)}"
        width = max(1, len(str(exc.token.value).split("\n")[0]))
    else:
        found, width = "unexpected end of the file", 1
    span = ast.Span(line, column, line, column + width)
    # `accepts` is what the parser can take next; `expected` also lists what
    # the lexer was offered, which includes NAME everywhere (see _WholeWords).
    acceptable = getattr(exc, "accepts", None) or getattr(exc, "expected", None)
    expected = _describe_expected(set(acceptable or ()))
    if expected:
        details += (f"expected {expected}",)
    return error(SYNTAX, found, span, *details)


def _describe_token(token: lark.Token) -> str:
    if token.type == "$END":
        return "end of the file"
    if token.type == "_NL":
        return "end of the line"
    return repr(str(token.value))


def _describe_expected(names: set[str]) -> str:
    words = sorted({_describe_terminal(name) for name in names})
    if len(words) > 8:
        words = words[:8] + ["..."]
    return ", ".join(words)


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    try:
        pattern = _parser().get_terminal(name).pattern
    except KeyError:
        return name
    return f"'{pattern.value}'"


@functools.cache
def keywords() -> frozenset[str]:
    """The words the language reserves; a tier with such a name needs quotes."""
    return frozenset(
        str(terminal.pattern.value)
        for terminal in _parser().terminals
        if terminal.pattern.type == "str" and str(terminal.pattern.value).isidentifier()
    )
