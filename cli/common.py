"""What the subcommands share: finding policy files and showing diagnostics."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

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


@contextmanager
def written_whole(path: str) -> Iterator[IO[str]]:
    """`path` opened for writing text, whose new content appears only if the
    block ends without an error: it is written beside the file and renamed
    over it, so a run that fails half-way leaves the old file (or none), not
    half an output a pipeline could take for a whole one. A file that is not
    a regular one (/dev/null, a pipe) is written as it is."""
    target = Path(path)
    if target.exists() and not target.is_file():
        with open(path, "w", encoding="utf-8", newline="") as stream:
            yield stream
        return
    try:
        fd, partial = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
        )
    except OSError as exc:
        raise TierwiseError(f"cannot write {path}: {exc.strerror}") from None
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(partial, 0o666 & ~mask)  # as open() would have made it
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
