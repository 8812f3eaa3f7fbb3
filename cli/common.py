"""What the subcommands share: finding policy files and showing diagnostics."""

from __future__ import annotations

import json
import os
import stat
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
    from tierwise.cli.grade import GradeOptions
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
    block ends without an error: it is written to a hidden `.partial` file
    beside the file and renamed over it, so a run that fails half-way leaves
    the old file (or none), not half an output a pipeline could take for a
    whole one. The file keeps its mode and, where allowed, its owner; a
    symbolic link keeps pointing where it did and the file it names is
    replaced. Written in place instead, as `open` would: anything under
    /dev or /proc (/dev/stdout, /dev/null), any file that is not a regular
    one, a file with other hard links, and a file in a folder that cannot
    take the hidden one. A run killed with SIGKILL or SIGTERM can leave the
    hidden file behind."""
    target = Path(os.path.realpath(path))
    try:
        existing: os.stat_result | None = target.stat()
    except OSError:
        existing = None
    special = any(str(p).startswith(("/dev/", "/proc/")) for p in (Path(path), target))
    in_place = special or (
        existing is not None
        and (not stat.S_ISREG(existing.st_mode) or existing.st_nlink > 1)
    )
    partial = None
    if not in_place:
        try:
            fd, partial = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
            )
        except PermissionError:
            in_place = existing is not None  # a writable file, a locked folder
            if not in_place:
                raise TierwiseError(f"cannot write {path}: Permission denied") from None
        except OSError as exc:
            raise TierwiseError(f"cannot write {path}: {exc.strerror}") from None
    if partial is None:
        try:
            stream = open(path, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise TierwiseError(f"cannot write {path}: {exc.strerror}") from None
        with stream:
            yield stream
        return
    try:
        _take_over(partial, existing)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def _take_over(partial: str, existing: os.stat_result | None) -> None:
    """Give the hidden file the mode (and owner) the written file will need."""
    if existing is None:
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(partial, 0o666 & ~mask)  # what open() would have made
        return
    os.chmod(partial, stat.S_IMODE(existing.st_mode))
    try:
        os.chown(partial, existing.st_uid, existing.st_gid)
    except OSError:
        pass  # not ours to give away: the file becomes the writer's


def check_paths(options: GradeOptions) -> None:
    """Refuse to write an output over the input (or two outputs to one file)."""
    written = {
        "--output": options.output,
        "--rejects": options.rejects,
        "--audit": options.audit,
    }
    seen: dict[Path, str] = {}
    if options.input != "-":
        seen[Path(options.input).resolve()] = "--input"
    for option, path in written.items():
        if path is None:
            continue
        resolved = Path(path).resolve()
        if resolved.exists() and not resolved.is_file():
            continue  # /dev/null or a pipe: writing it twice destroys nothing
        if resolved in seen:
            raise TierwiseError(
                f"{option} {path} is the same file as {seen[resolved]}; "
                "writing it would destroy it"
            )
        seen[resolved] = option
