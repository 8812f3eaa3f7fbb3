"""The `tierwise` command: registers the subcommands and owns the exit codes.

Only this package prints. Results go to stdout, messages and summaries to
stderr. Exit codes, for every command:

- 0: success;
- 1: the command ran and found a problem (a policy error, a failing test,
  a rejected input record);
- 2: the command could not run (bad usage, unreadable file, broken policy
  where one was needed to grade).
"""

from __future__ import annotations

import sys

import click

from tierwise import __version__
from tierwise.cli.actions import actions
from tierwise.cli.check import check
from tierwise.cli.db import db
from tierwise.cli.diff import diff
from tierwise.cli.explain import explain
from tierwise.cli.fmt import fmt
from tierwise.cli.grade import grade
from tierwise.cli.history import history
from tierwise.cli.replay import replay
from tierwise.cli.runs import runs
from tierwise.cli.schema import schema
from tierwise.cli.test import test
from tierwise.dsl.errors import PolicyError, TierwiseError


class _Group(click.Group):
    """Turns tierwise errors into a message on stderr and exit code 2, and an
    interrupt (Ctrl-C) into exit code 130, as shells report SIGINT."""

    def invoke(self, ctx: click.Context) -> object:
        from tierwise.cli.common import print_policy_error

        try:
            return super().invoke(ctx)
        except PolicyError as exc:
            print_policy_error(exc)
            sys.exit(2)
        except TierwiseError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:  # not 1, which says "some records rejected"
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="tierwise")
def main() -> None:
    """Grade accounts with policies written as readable, tested files."""


main.add_command(check)
main.add_command(test)
main.add_command(grade)
main.add_command(explain)
main.add_command(db)
main.add_command(history)
main.add_command(runs)
main.add_command(replay)
main.add_command(actions)
main.add_command(fmt)
main.add_command(diff)
main.add_command(schema)
