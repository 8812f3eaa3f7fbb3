"""`tierwise replay RUN_ID`: re-grade a stored run and verify its results."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from tierwise.cli.common import plural
from tierwise.cli.db import db_option, open_store

if TYPE_CHECKING:
    from tierwise.engine.store.replay import Difference, ReplayReport

SHOW_DIFFERENCES = 50


@dataclass(frozen=True)
class ReplayOptions:
    run_id: str
    db: str | None


@click.command()
@click.argument("run_id", metavar="RUN_ID")
@db_option
def replay(run_id: str, db: str | None) -> None:
    """Grade a stored run again and compare the results.

    RUN_ID's stored inputs are graded with its stored policy version and
    as-of, and every result is compared with the stored one.

    Exits 0 when every record comes out the same, 1 when some differ, 2 when
    the run cannot be replayed.
    """
    options = ReplayOptions(run_id, db)
    with open_store(options.db) as store:
        report = store.replay(options.run_id)
    for difference in report.differences[:SHOW_DIFFERENCES]:
        click.echo(render_difference(difference))
    click.echo(render_summary(report), err=True)
    sys.exit(0 if report.matches else 1)


def render_difference(difference: Difference) -> str:
    account = f" ({difference.account_id})" if difference.account_id else ""
    return (
        f"line {difference.line}{account}: {difference.field}: stored "
        f"{_short(difference.stored)}, replayed {_short(difference.replayed)}"
    )


def _short(value: Any, width: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def render_summary(report: ReplayReport) -> str:
    run = report.run
    head = (
        f"replayed run {run.id} ({run.policy_name} v{run.policy_version}, "
        f"as of {run.as_of}): {plural(report.checked, 'record')}"
    )
    lines = []
    if report.matches:
        lines.append(f"{head}, all match")
    else:
        records = len({d.line for d in report.differences})
        lines.append(
            f"{head}, {plural(len(report.differences), 'difference')} in "
            f"{plural(records, 'record')}"
        )
        if len(report.differences) > SHOW_DIFFERENCES:
            lines.append(f"{len(report.differences) - SHOW_DIFFERENCES} more not shown")
    if run.status != "complete":
        lines.append(
            f"note: run {run.id} is {run.status}; only the records it committed "
            "were replayed"
        )
    return "\n".join(lines)
