"""`tierwise check PATH...`: report every problem in the named policies."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import click

from tierwise.cli.common import (
    diagnostics_json,
    plural,
    policy_files,
    render_diagnostics,
)
from tierwise.dsl.diagnostics import Diagnostic


@dataclass(frozen=True)
class CheckOptions:
    paths: tuple[str, ...]
    format: str


def run_check(options: CheckOptions) -> tuple[list[Diagnostic], dict[str, str], int]:
    """All diagnostics of all policies, their sources, and how many files."""
    from tierwise.dsl.check import check_source
    from tierwise.dsl.errors import PolicyError

    files = policy_files(options.paths)
    diagnostics: list[Diagnostic] = []
    sources: dict[str, str] = {}
    for path in files:
        source = path.read_text(encoding="utf-8")
        sources[str(path)] = source
        try:
            diagnostics += check_source(source, str(path)).diagnostics
        except PolicyError as exc:
            diagnostics += exc.diagnostics
    return diagnostics, sources, len(files)


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "format_",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to print the problems found.",
)
def check(paths: tuple[str, ...], format_: str) -> None:
    """Check policy files (or folders of them) for errors and warnings.

    Exits 0 when no policy has an error (warnings allowed), 1 otherwise.
    """
    diagnostics, sources, count = run_check(CheckOptions(paths, format_))
    if format_ == "json":
        click.echo(diagnostics_json(diagnostics))
    elif diagnostics:
        click.echo(render_diagnostics(diagnostics, sources))
    errors = sum(1 for d in diagnostics if d.severity == "error")
    warnings = len(diagnostics) - errors
    click.echo(
        f"checked {plural(count, 'policy', 'policies')}: "
        f"{plural(errors, 'error')}, {plural(warnings, 'warning')}",
        err=True,
    )
    sys.exit(1 if errors else 0)
