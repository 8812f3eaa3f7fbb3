"""`tierwise check PATH...`: report every problem in the named policies."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from tierwise.cli.common import (
    diagnostics_json,
    plural,
    policy_files,
    render_diagnostics,
)
from tierwise.dsl.diagnostics import Diagnostic
from tierwise.dsl.files import read_policy


@dataclass(frozen=True)
class CheckOptions:
    paths: tuple[str, ...]
    format: str = "text"
    strict: bool = False
    max_errors: int = 50
    base: str | None = None


def run_check(options: CheckOptions) -> tuple[list[Diagnostic], dict[str, str], int]:
    """All diagnostics of all policies, their sources, and how many files."""
    files = policy_files(options.paths)
    diagnostics: list[Diagnostic] = []
    sources: dict[str, str] = {}
    for path in files:
        source = read_policy(path)
        sources[str(path)] = source
        diagnostics += _check_one(path, source, options.base)
    if options.strict:
        diagnostics = [dataclasses.replace(d, severity="error") for d in diagnostics]
    return diagnostics, sources, len(files)


def _check_one(path: Path, source: str, base: str | None) -> list[Diagnostic]:
    from tierwise.dsl.check import check_source
    from tierwise.dsl.errors import PolicyError
    from tierwise.dsl.lint import lint

    try:
        checked = check_source(source, str(path))
    except PolicyError as exc:
        return exc.diagnostics
    if not checked.ok:
        return checked.diagnostics
    return checked.diagnostics + lint(checked, source, str(path), _base(path, base))


def _base(path: Path, revision: str | None):  # type: ignore[no-untyped-def]
    """The policy as it was at `revision` in git, or None if it was not there."""
    from tierwise.dsl.errors import PolicyError, TierwiseError
    from tierwise.dsl.parser import parse

    if revision is None:
        return None
    shown = subprocess.run(
        ["git", "show", f"{revision}:./{path.name}"],
        cwd=path.parent,
        capture_output=True,
        text=True,
    )
    if shown.returncode != 0:
        if (
            "exists on disk, but not in" in shown.stderr
            or "does not exist" in shown.stderr
        ):
            return None  # a new policy: nothing to compare with
        raise TierwiseError(f"--base {revision}: {shown.stderr.strip()}")
    try:
        return parse(shown.stdout, f"{revision}:{path}")
    except PolicyError:
        return None  # the old version did not parse; any version is an improvement


def github_annotations(diagnostics: list[Diagnostic]) -> str:
    """GitHub Actions workflow commands, one annotation per diagnostic."""
    lines = []
    for d in diagnostics:
        properties = ",".join(
            f"{key}={_escape(str(value), True)}"
            for key, value in (
                ("file", d.file),
                ("line", d.span.line),
                ("col", d.span.column),
                ("endLine", d.span.end_line),
                ("endColumn", d.span.end_column),
                ("title", d.code),
            )
        )
        message = "\n".join([d.message, *d.details])
        lines.append(f"::{d.severity} {properties}::{_escape(message, False)}")
    return "\n".join(lines)


def _escape(text: str, is_property: bool) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if is_property:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "format_",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text for people, json for tools, github for Actions annotations.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--max-errors",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Show at most this many problems (text format).",
)
@click.option("--base", help="A git revision to compare versions with (e.g. main).")
def check(
    paths: tuple[str, ...],
    format_: str,
    strict: bool,
    max_errors: int,
    base: str | None,
) -> None:
    """Check and lint policy files (or folders of them).

    Exits 0 when no policy has an error (warnings allowed unless --strict),
    1 otherwise.
    """
    options = CheckOptions(paths, format_, strict, max_errors, base)
    diagnostics, sources, count = run_check(options)
    if format_ == "json":
        click.echo(diagnostics_json(diagnostics))
    elif format_ == "github":
        if diagnostics:
            click.echo(github_annotations(diagnostics))
    elif diagnostics:
        click.echo(render_diagnostics(diagnostics, sources, max_errors))
    errors = sum(1 for d in diagnostics if d.severity == "error")
    warnings = len(diagnostics) - errors
    sys.stdout.flush()
    click.echo(
        f"checked {plural(count, 'policy', 'policies')}: "
        f"{plural(errors, 'error')}, {plural(warnings, 'warning')}",
        err=True,
    )
    sys.exit(1 if errors else 0)
