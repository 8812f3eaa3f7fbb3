"""`tierwise actions`: list the outbox of fired actions, and deliver it."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from tierwise.cli.common import plural
from tierwise.cli.db import db_option, open_store

if TYPE_CHECKING:
    from tierwise.engine.store.outbox import DeliveryReport

STATUSES = ("pending", "delivered", "failed", "all")


@click.group()
def actions() -> None:
    """List and deliver the actions that runs fired (the outbox)."""


@dataclass(frozen=True)
class ListOptions:
    status: str
    run: str | None
    limit: int | None
    format: str
    db: str | None


@actions.command("list")
@click.option(
    "--status", type=click.Choice(STATUSES), default="pending", show_default=True
)
@click.option("--run", metavar="RUN_ID", help="Only actions fired by this run.")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many.")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["text", "jsonl"]),
    default="text",
    show_default=True,
)
@db_option
def list_(
    status: str, run: str | None, limit: int | None, format_: str, db: str | None
) -> None:
    """List outbox actions in the order they fired (pending ones by default)."""
    options = ListOptions(status, run, limit, format_, db)
    with open_store(options.db) as store:
        found = store.actions(
            status=None if options.status == "all" else options.status,
            run_id=options.run,
            limit=options.limit,
        )
        counts = store.action_counts()
    for action in found:
        if options.format == "jsonl":
            data = {**action.payload(), "status": action.status}
            data["attempts"] = action.attempts
            click.echo(json.dumps(data, ensure_ascii=False))
            continue
        before = action.previous_tier or "new"
        click.echo(
            f'{action.status:<9} {action.kind} "{action.target}" for '
            f"{action.account_id} ({before} → {action.tier}), key {action.key}"
        )
    click.echo(", ".join(f"{n} {status}" for status, n in counts.items()), err=True)


@dataclass(frozen=True)
class DeliverOptions:
    to: str
    max_attempts: int
    backoff: float
    timeout: float
    retry_failed: bool
    limit: int | None
    db: str | None


@actions.command()
@click.option(
    "--to",
    required=True,
    metavar="FILE|URL",
    help="A JSONL file to append to, or an http(s) webhook to POST each action to.",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Webhook attempts per action before delivery stops.",
)
@click.option(
    "--backoff",
    type=click.FloatRange(min=0),
    default=0.5,
    show_default=True,
    help="Seconds before the second attempt; doubled for each next one.",
)
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True
)
@click.option(
    "--retry-failed", is_flag=True, help="Send actions the webhook refused again."
)
@click.option("--limit", type=click.IntRange(min=1), help="Deliver at most this many.")
@db_option
def deliver(
    to: str,
    max_attempts: int,
    backoff: float,
    timeout: float,
    retry_failed: bool,
    limit: int | None,
    db: str | None,
) -> None:
    """Deliver pending actions, at least once, and mark them delivered.

    Each webhook request is a JSON POST with the action's idempotency key in
    its `Idempotency-Key` header. Exits 0 when every action tried was
    delivered, 1 when the receiver refused some or kept failing (they stay in
    the outbox), 2 when delivery cannot start.
    """
    options = DeliverOptions(
        to, max_attempts, backoff, timeout, retry_failed, limit, db
    )
    report = run_deliver(options)
    for error in report.errors[:20]:
        click.echo(f"not delivered: {error}", err=True)
    click.echo(
        f"delivered {plural(report.delivered, 'action')} to {options.to}; "
        f"{report.failed} refused, {report.left} pending",
        err=True,
    )
    sys.exit(0 if report.complete else 1)


def run_deliver(options: DeliverOptions) -> DeliveryReport:
    from tierwise.engine.store.outbox import Webhook

    hook = Webhook(
        options.to,
        max_attempts=options.max_attempts,
        backoff=options.backoff,
        timeout=options.timeout,
    )
    with open_store(options.db) as store:
        return store.deliver(
            options.to,
            webhook=hook,
            retry_failed=options.retry_failed,
            limit=options.limit,
        )
