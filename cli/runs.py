"""`tierwise runs`: the recent runs in the store, with counts and tiers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import click

from tierwise.cli.common import plural
from tierwise.cli.db import db_option, open_store

if TYPE_CHECKING:
    from tierwise.engine.store.history import RunInfo


@dataclass(frozen=True)
class RunsOptions:
    limit: int
    policy: str | None
    format: str
    db: str | None


@click.command()
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--policy", help="Only runs of this policy name.")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@db_option
def runs(limit: int, policy: str | None, format_: str, db: str | None) -> None:
    """List the latest runs with their counts and tiers.

    Newest first: policy version, as-of, input, status, counts, tier
    distribution, tier changes and actions fired.
    """
    options = RunsOptions(limit, policy, format_, db)
    with open_store(options.db) as store:
        found = store.runs(options.limit, options.policy)
    if options.format == "json":
        data = [{**asdict(run), "read": run.counts.read} for run in found]
        click.echo(json.dumps(data, indent=2, default=str))
        return
    if not found:
        click.echo("no runs recorded", err=True)
        return
    click.echo(render_runs(found), nl=False)


def render_runs(found: Sequence[RunInfo]) -> str:
    return "".join(_run(run) for run in found)


def _run(run: RunInfo) -> str:
    counts = run.counts
    started = run.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    status = run.status
    if status != "complete":
        status += f" (committed through line {run.last_line})"
    tiers = ", ".join(f"{tier} {n}" for tier, n in counts.tiers.items()) or "none"
    lines = [
        f"{run.id}  {status}",
        f"  {run.policy_name} v{run.policy_version}, as of {run.as_of}, "
        f"started {started}",
        f"  {counts.read} records from {run.input_name}: {counts.graded} graded, "
        f"{counts.excluded} excluded, {counts.rejected} rejected",
        f"  tiers: {tiers}; {counts.new_accounts} new, {counts.changed} changed; "
        f"{plural(counts.fired, 'action')} fired",
    ]
    if run.error:
        lines.append(f"  error: {run.error}")
    return "\n".join(lines) + "\n"
