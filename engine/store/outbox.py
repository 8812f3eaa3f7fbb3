"""Delivering fired actions from the outbox to a JSONL file or an HTTP webhook.

Delivery is at least once: an action is marked delivered only after the file
has been written and synced or the webhook answered 2xx, so a delivery that
stops halfway sends some actions again on the next try, with the same
idempotency key (in the payload, and in the `Idempotency-Key` header) for the
receiver to drop the repeat. A webhook that fails (a connection error, a
timeout, 408, 425, 429 or 5xx) is retried with exponential backoff; after
`max_attempts` the action stays pending and delivery stops, to be run again
later. Any other 4xx answer marks the action failed: sending it again would
not help (`retry_failed` sends failed actions again once the receiver is
fixed).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select, update

from tierwise import __version__
from tierwise.engine.store import schema
from tierwise.engine.store.connect import write_transaction
from tierwise.engine.store.errors import StoreError
from tierwise.engine.store.history import utc
from tierwise.engine.store.recorder import now

log = logging.getLogger(__name__)

PAGE = 200
RETRY_STATUSES = frozenset({408, 425, 429})
STATUSES = ("pending", "delivered", "failed")


@dataclass(frozen=True)
class OutboxAction:
    """A fired action in the outbox, as it is delivered."""

    id: int
    key: str
    run_id: str
    line: int
    policy_name: str
    policy_version: str
    account_id: str | None
    kind: str
    target: str
    trigger: str
    trigger_tier: str | None
    previous_tier: str | None
    tier: str
    score: str
    reason: str
    as_of: str
    status: str
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None

    def payload(self) -> dict[str, Any]:
        """The JSON object sent for this action."""
        return {
            "key": self.key,
            "action": self.kind,
            "target": self.target,
            "account": self.account_id,
            "tier": self.tier,
            "previous_tier": self.previous_tier,
            "trigger": self.trigger,
            "trigger_tier": self.trigger_tier,
            "score": self.score,
            "reason": self.reason,
            "policy": self.policy_name,
            "policy_version": self.policy_version,
            "run": self.run_id,
            "as_of": self.as_of,
            "fired_at": self.created_at.isoformat(),
        }


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0  # rejected by the receiver (4xx): marked failed
    errors: list[str] = field(default_factory=list)
    stopped: bool = False  # the webhook kept failing: delivery gave up for now
    left: int = 0  # pending in the outbox afterwards

    @property
    def complete(self) -> bool:
        """Every action tried was delivered."""
        return not self.failed and not self.stopped


def _action(row: Row[Any]) -> OutboxAction:
    values = dict(row._mapping)
    values["created_at"] = utc(values["created_at"])
    if values["delivered_at"] is not None:
        values["delivered_at"] = utc(values["delivered_at"])
    return OutboxAction(**values)


def list_actions(
    conn: Connection,
    *,
    status: str | None = None,
    run_id: str | None = None,
    limit: int | None = None,
) -> list[OutboxAction]:
    """Outbox actions in the order they fired."""
    query = select(schema.outbox).order_by(schema.outbox.c.id)
    if status is not None:
        query = query.where(schema.outbox.c.status == status)
    if run_id is not None:
        query = query.where(schema.outbox.c.run_id == run_id)
    return [_action(row) for row in conn.execute(query.limit(limit))]


def count_by_status(conn: Connection) -> dict[str, int]:
    outbox = schema.outbox
    rows = conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
    counts = {status: 0 for status in STATUSES}
    counts.update({row[0]: row[1] for row in rows})
    return counts


# ---- delivery ---------------------------------------------------------------------


@dataclass(frozen=True)
class Webhook:
    """How to post to a webhook: attempts per action, backoff, timeout."""

    url: str
    max_attempts: int = 5
    backoff: float = 0.5  # seconds before the 2nd attempt; doubles, at most 30
    timeout: float = 10.0
    sleep: Callable[[float], None] = time.sleep


def deliver(
    engine: Engine,
    to: str,
    *,
    webhook: Webhook | None = None,
    retry_failed: bool = False,
    limit: int | None = None,
) -> DeliveryReport:
    """Deliver pending actions to `to`: an http(s) URL or a JSONL file to append to."""
    is_url = to.startswith(("http://", "https://"))
    hook = webhook or Webhook(to)
    report = DeliveryReport()
    statuses = ("pending", "failed") if retry_failed else ("pending",)
    after = 0
    while limit is None or report.delivered + report.failed < limit:
        page = _pending(engine, statuses, after, _page_size(limit, report))
        if not page:
            break
        after = page[-1].id
        if is_url:
            stopped = _post_page(engine, hook, page, report)
        else:
            _append_page(engine, Path(to), page, report)
            stopped = False
        if stopped:
            report.stopped = True
            break
    with engine.connect() as conn:
        report.left = count_by_status(conn)["pending"]
    return report


def _page_size(limit: int | None, report: DeliveryReport) -> int:
    if limit is None:
        return PAGE
    return min(PAGE, limit - report.delivered - report.failed)


def _pending(
    engine: Engine, statuses: Sequence[str], after: int, size: int
) -> list[OutboxAction]:
    outbox = schema.outbox
    with engine.connect() as conn:
        rows = conn.execute(
            select(outbox)
            .where(outbox.c.status.in_(statuses), outbox.c.id > after)
            .order_by(outbox.c.id)
            .limit(size)
        )
        return [_action(row) for row in rows]


def _append_page(
    engine: Engine, path: Path, page: list[OutboxAction], report: DeliveryReport
) -> None:
    try:
        with path.open("a", encoding="utf-8") as out:
            for action in page:
                out.write(json.dumps(action.payload(), ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise StoreError(f"cannot write actions to {path}: {exc}") from None
    _mark(engine, [a.id for a in page], status="delivered", attempts=1)
    report.delivered += len(page)


def _post_page(
    engine: Engine, hook: Webhook, page: list[OutboxAction], report: DeliveryReport
) -> bool:
    """Post each action; True when the webhook kept failing and delivery stops."""
    for action in page:
        outcome, attempts, error = _post(hook, action)
        if outcome == "delivered":
            _mark(engine, [action.id], status="delivered", attempts=attempts)
            report.delivered += 1
            continue
        status = "failed" if outcome == "failed" else "pending"
        _mark(engine, [action.id], status=status, attempts=attempts, error=error)
        report.errors.append(f"{action.key}: {error}")
        if outcome == "failed":
            report.failed += 1
            continue
        return True
    return False


def _post(hook: Webhook, action: OutboxAction) -> tuple[str, int, str]:
    """Post one action, retrying; ("delivered"|"failed"|"pending", attempts, error)."""
    body = json.dumps(action.payload(), ensure_ascii=False).encode("utf-8")
    error = ""
    for attempt in range(1, hook.max_attempts + 1):
        if attempt > 1:
            hook.sleep(min(30.0, hook.backoff * 2 ** (attempt - 2)))
        retry, error = _post_once(hook, action.key, body)
        if not error:
            return "delivered", attempt, ""
        log.info("action %s, attempt %d: %s", action.key, attempt, error)
        if not retry:
            return "failed", attempt, error
    return "pending", hook.max_attempts, error


def _post_once(hook: Webhook, key: str, body: bytes) -> tuple[bool, str]:
    """One POST; (whether to retry, error text or '' on success)."""
    request = urllib.request.Request(
        hook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "User-Agent": f"tierwise/{__version__}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=hook.timeout) as response:
            response.read()
            return False, ""
    except urllib.error.HTTPError as exc:
        retry = exc.code in RETRY_STATUSES or exc.code >= 500
        return retry, f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return True, f"cannot reach {hook.url}: {reason}"


def _mark(
    engine: Engine, ids: list[int], *, status: str, attempts: int, error: str = ""
) -> None:
    outbox = schema.outbox
    values: dict[str, Any] = {
        "status": status,
        "attempts": outbox.c.attempts + attempts,
        "last_error": error or None,
    }
    if status == "delivered":
        values["delivered_at"] = now()
    with write_transaction(engine) as conn:
        conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(**values))
