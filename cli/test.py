"""`tierwise test PATH...`: run the tests written in policies."""

from __future__ import annotations

import sys

import click

from tierwise.cli.common import plural, policy_files, print_policy_error
from tierwise.cli.explain import render_result


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-q", "--quiet", is_flag=True, help="Print failing tests only.")
def test(paths: tuple[str, ...], quiet: bool) -> None:
    """Run the tests in policy files (or folders of them).

    Exits 0 when every test passes, 1 when one fails or a policy has errors.
    """
    from tierwise.dsl.errors import PolicyError
    from tierwise.engine.policy import load_policy
    from tierwise.engine.testing import run_tests

    passed = failed = broken = 0
    for path in policy_files(paths):
        try:
            policy = load_policy(path)
        except PolicyError as exc:
            print_policy_error(exc)
            broken += 1
            continue
        for outcome in run_tests(policy):
            name = f"{path}:{outcome.test.span.line}: {outcome.test.name}"
            if outcome.passed:
                passed += 1
                if not quiet:
                    click.echo(f"PASS {name}")
                continue
            failed += 1
            click.echo(f"FAIL {name}")
            for failure in outcome.failures:
                click.echo(f"  {failure}")
            if outcome.result is not None:
                click.echo(_indent(render_result(outcome.result), "  | "))
    summary = f"{passed} passed, {failed} failed"
    if broken:
        summary += f" ({plural(broken, 'policy', 'policies')} could not load)"
    click.echo(summary)
    sys.exit(1 if failed or broken else 0)


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())
