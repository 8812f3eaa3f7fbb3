"""What the subcommands share: finding policy files and showing diagnostics."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tierwise.dsl.diagnostics import (
    Diagnostic,
    render_text,
    sort_and_cap,
    source_lines,
)
from tierwise.dsl.errors import PolicyError, TierwiseError

if TYPE_CHECKING:
    from tierwise.engine.result import Rejected

POLICY_SUFFIX = ".grade"
SHOW_REJECTS = 10  # rejects echoed to stderr when there is no --rejects file


def policy_files(paths: Iterable[str]) -> list[Path]:
    """The policy files named, with folders searched for `*.grade` files."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(path.rglob(f"*{POLICY_SUFFIX}")))
        elif path.is_file():
            found.append(path)
        else:
            raise TierwiseError(f"no such file or folder: {name}")
    if not found:
        raise TierwiseError(f"no {POLICY_SUFFIX} files in {', '.join(paths)}")
    return found


def render_diagnostics(
    diagnostics: Sequence[Diagnostic], sources: dict[str, str], cap: int = 50
) -> str:
    shown, more = sort_and_cap(diagnostics, cap)
    blocks = [render_text(d, source_lines(sources.get(d.file, ""))) for d in shown]
    if more:
        blocks.append(f"... and {more} more")
    return "\n".join(blocks)


def diagnostics_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([d.to_dict() for d in diagnostics], indent=2)


def print_policy_error(exc: PolicyError) -> None:
    text = render_diagnostics(exc.diagnostics, {exc.path: exc.source})
    click.echo(text, err=True)
    errors = sum(1 for d in exc.diagnostics if d.severity == "error")
    click.echo(f"{exc.path}: {errors} error{'s' if errors != 1 else ''}", err=True)


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else many or word + 's'}"


def echo_rejected(rejected: Rejected) -> None:
    """A rejected record on stderr: its line, id, and each field's problem."""
    where = f"line {rejected.line}" + (f" ({rejected.id})" if rejected.id else "")
    for p in rejected.problems:
        field = f"{p.field} = {p.value!r}: " if p.field else ""
        click.echo(f"rejected {where}: {field}{p.reason}", err=True)
