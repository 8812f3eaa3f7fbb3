"""`tierwise fmt PATH...`: rewrite policies in the canonical layout."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import click

from tierwise.cli.common import plural, policy_files, print_policy_error
from tierwise.dsl.files import read_policy


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--check", is_flag=True, help="Change nothing; exit 1 if a file would change."
)
@click.option(
    "--diff", "show_diff", is_flag=True, help="Print the changes; write nothing."
)
def fmt(paths: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Format policy files (or folders of them) in one canonical layout.

    Comments are kept and the meaning never changes. With --check or --diff
    nothing is written and the exit code is 1 when a file would change.
    """
    from tierwise.dsl.errors import PolicyError
    from tierwise.dsl.format import format_source

    changed: list[Path] = []
    broken = 0
    for path in policy_files(paths):
        source = read_policy(path)
        try:
            formatted = format_source(source, str(path))
        except PolicyError as exc:
            print_policy_error(exc)
            broken += 1
            continue
        if formatted == source:
            continue
        changed.append(path)
        if show_diff:
            click.echo(_diff(path, source, formatted), nl=False)
        elif check:
            click.echo(f"would reformat {path}")
        else:
            path.write_text(formatted, encoding="utf-8")
            click.echo(f"reformatted {path}", err=True)
    dry = check or show_diff
    verb = "would be reformatted" if dry else "reformatted"
    click.echo(f"{plural(len(changed), 'file')} {verb}", err=True)
    sys.exit(1 if broken or (dry and changed) else 0)


def _diff(path: Path, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"{path} (original)",
        tofile=f"{path} (formatted)",
    )
    return "".join(lines)
