"""`tierwise history ACCOUNT_ID`: an account's tiers over time, and why."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import click

from tierwise.cli.common import plural
from tierwise.cli.db import db_option, open_store

if TYPE_CHECKING:
    from tierwise.engine.store.history import HistoryEntry, Moved


@dataclass(frozen=True)
class HistoryOptions:
    account: str
    policy: str | None
    all: bool
    format: str
    db: str | None


@click.command()
@click.argument("account", metavar="ACCOUNT_ID")
@click.option("--policy", help="Only gradings under this policy name.")
@click.option(
    "--all", "all_", is_flag=True, help="Show every grading, not only the changes."
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@db_option
def history(
    account: str, policy: str | None, all_: bool, format_: str, db: str | None
) -> None:
    """Show an account's tiers over time, and why they changed.

    Each change comes with its run, the policy version, the criteria that
    moved and the actions that fired.

    Exits 2 when the store has no audit record of the account.
    """
    options = HistoryOptions(account, policy, all_, format_, db)
    entries = load_history(options)
    if options.format == "json":
        click.echo(json.dumps([asdict(e) for e in entries], indent=2, default=str))
        return
    click.echo(render_history(options.account, entries, options.all), nl=False)


def load_history(options: HistoryOptions) -> list[HistoryEntry]:
    from tierwise.engine.store.errors import StoreError

    with open_store(options.db) as store:
        entries = store.history(options.account, options.policy)
    if not entries:
        under = f" under policy '{options.policy}'" if options.policy else ""
        raise StoreError(f"no audit record of account '{options.account}'{under}")
    return entries


def render_history(
    account: str, entries: Sequence[HistoryEntry], every: bool = False
) -> str:
    """One block per policy name: where the account stands, then its changes."""
    blocks = []
    for name in dict.fromkeys(e.policy_name for e in entries):
        mine = [e for e in entries if e.policy_name == name]
        lines = [_heading(account, mine)]
        lines += ["  " + _line(e) for e in mine if every or e.change != "same"]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _heading(account: str, entries: Sequence[HistoryEntry]) -> str:
    changes = [e for e in entries if e.change != "same"]
    since = changes[-1] if changes else entries[0]
    return (
        f"account '{account}' under {since.policy_name}: "
        f"{_tier(entries[-1].tier)} since {since.as_of[:10]} (run {since.run_id}), "
        f"graded {plural(len(entries), 'time')}"
    )


def _line(entry: HistoryEntry) -> str:
    """`B → A on DATE under vN (run ID): what moved; score; routed: actions`."""
    if entry.change == "same":
        what = f"{_tier(entry.tier)}, unchanged"
    else:
        before = "new" if entry.change == "new" else _tier(entry.previous_tier)
        what = f"{before} → {_tier(entry.tier)}"
    where = f"on {entry.as_of[:10]} under v{entry.policy_version} (run {entry.run_id})"
    return f"{what} {where}: {'; '.join(_details(entry))}"


def _details(entry: HistoryEntry) -> list[str]:
    details = []
    if entry.moved:
        details.append(", ".join(_moved(m) for m in entry.moved))
    elif entry.change == "changed":
        details.append("no criterion moved")
    if entry.previous_version not in (None, entry.policy_version):
        details.append(f"policy v{entry.previous_version} → v{entry.policy_version}")
    if entry.previous_score is not None and entry.previous_score != entry.score:
        details.append(f"score {entry.previous_score} → {entry.score}")
    else:
        details.append(f"score {entry.score}")
    if entry.fired:
        details.append("routed: " + ", ".join(entry.fired))
    return details


def _tier(tier: str | None) -> str:
    return "excluded" if tier is None else tier


def _moved(moved: Moved) -> str:
    from tierwise.engine.policy import format_decimal

    delta = format_decimal(moved.delta)
    return f"{moved.criterion} {delta if delta.startswith('-') else '+' + delta}"
