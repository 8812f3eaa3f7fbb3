"""`tierwise test PATH...`: run the tests written in policies."""

from __future__ import annotations

import sys
from decimal import Decimal

import click

from tierwise.cli.common import plural, policy_files, print_policy_error
from tierwise.cli.explain import render_result


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-q", "--quiet", is_flag=True, help="Print failing tests only.")
@click.option(
    "--coverage",
    is_flag=True,
    help="Report the parts of each policy no test exercised.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 100),
    help="With --coverage: fail when a policy's coverage is below this percent.",
)
def test(
    paths: tuple[str, ...], quiet: bool, coverage: bool, threshold: float | None
) -> None:
    """Run the tests in policy files (or folders of them).

    Exits 0 when every test passes (and, with --threshold, every policy is
    covered enough), 1 otherwise.
    """
    from tierwise.dsl.errors import PolicyError
    from tierwise.engine.coverage import measure
    from tierwise.engine.policy import load_policy
    from tierwise.engine.testing import run_tests

    passed = failed = broken = below = 0
    for path in policy_files(paths):
        try:
            policy = load_policy(path)
        except PolicyError as exc:
            print_policy_error(exc)
            broken += 1
            continue
        outcomes = run_tests(policy)
        for outcome in outcomes:
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
        if coverage:
            results = [o.result for o in outcomes if o.result is not None]
            report = measure(policy.checked.policy, results)
            covered = len(report.exercised)
            click.echo(
                f"coverage {path}: {report.percent}% "
                f"({covered} of {plural(len(report.parts), 'part')})"
            )
            for part in report.missed:
                click.echo(f"  not exercised: {path}:{part.line}: {part.label}")
            if threshold is not None and report.percent < Decimal(str(threshold)):
                below += 1
    summary = f"{passed} passed, {failed} failed"
    if broken:
        summary += f" ({plural(broken, 'policy', 'policies')} could not load)"
    click.echo(summary)
    if below:
        click.echo(
            f"{plural(below, 'policy', 'policies')} below {threshold:g}% coverage",
            err=True,
        )
    sys.exit(1 if failed or broken or below else 0)


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())
