"""Looking back: the runs recorded, and an account's tiers over time.

`account_history` answers "why is this account A, since when, under which
policy version, and who was it routed to?": every audit record of the account
in the order the store graded them, each with its previous tier, the criteria
whose contributions moved since the previous grading under the same policy
name, and the actions that fired.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, select

from tierwise.engine.store import schema
from tierwise.engine.store.errors import StoreError
from tierwise.engine.store.recorder import RunCounts


@dataclass(frozen=True)
class RunInfo:
    """A recorded run, as `tierwise runs` shows it."""

    id: str
    policy_name: str
    policy_version: str
    policy_hash: str
    as_of: str
    input_name: str
    input_digest: str
    options: dict[str, Any]
    status: str
    error: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    last_line: int
    counts: RunCounts


@dataclass(frozen=True)
class Moved:
    """A criterion whose contribution changed between two gradings."""

    criterion: str
    before: Decimal
    after: Decimal

    @property
    def delta(self) -> Decimal:
        return self.after - self.before


@dataclass(frozen=True)
class HistoryEntry:
    """One grading of an account, and what changed since the one before it."""

    policy_name: str
    policy_version: str
    run_id: str
    as_of: str
    started_at: dt.datetime
    line: int
    tier: str | None
    previous_tier: str | None
    change: str  # "new", "changed" or "same"
    excluded: bool
    score: str
    previous_score: str | None
    previous_version: str | None  # the policy version of the grading before
    reason: str
    moved: tuple[Moved, ...]
    fired: tuple[str, ...]  # the actions fired, as `assign "ae"`


def utc(value: dt.datetime) -> dt.datetime:
    """A stored time as UTC (SQLite hands times back without their zone)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


# ---- runs ------------------------------------------------------------------------


def _runs_query() -> Any:
    runs, policies = schema.runs, schema.policies
    return select(runs, policies.c.name, policies.c.version, policies.c.hash).join(
        policies, policies.c.id == runs.c.policy_id
    )


def run_info(row: Row[Any]) -> RunInfo:
    values = row._mapping
    counts = RunCounts(
        **{k: values[k] for k in RunCounts().row() if k != "tiers"},
        tiers=dict(values["tiers"]),
    )
    return RunInfo(
        id=row.id,
        policy_name=row.name,
        policy_version=row.version,
        policy_hash=row.hash,
        as_of=row.as_of,
        input_name=row.input_name,
        input_digest=row.input_digest,
        options=dict(row.options),
        status=row.status,
        error=row.error,
        started_at=utc(row.started_at),
        finished_at=utc(row.finished_at) if row.finished_at else None,
        last_line=row.last_line,
        counts=counts,
    )


def find_run(conn: Connection, run_id: str) -> RunInfo:
    row = conn.execute(_runs_query().where(schema.runs.c.id == run_id)).first()
    if row is None:
        raise StoreError(f"no run '{run_id}' in the store")
    return run_info(row)


def recent_runs(
    conn: Connection, limit: int = 20, policy_name: str | None = None
) -> list[RunInfo]:
    """The latest runs first, optionally of one policy name."""
    query = _runs_query()
    if policy_name is not None:
        query = query.where(schema.policies.c.name == policy_name)
    query = query.order_by(schema.runs.c.started_at.desc(), schema.runs.c.id)
    return [run_info(row) for row in conn.execute(query.limit(limit))]


# ---- an account's history --------------------------------------------------------


def account_history(
    conn: Connection, account_id: str, policy_name: str | None = None
) -> list[HistoryEntry]:
    """Every grading of `account_id`, oldest first, with what moved each time."""
    fired = _fired_actions(conn, account_id)
    previous: dict[str, Row[Any]] = {}
    entries = []
    for row in conn.execute(_history_query(account_id, policy_name)):
        before = previous.get(row.name)
        entries.append(_entry(row, before, fired[(row.run_id, row.line)]))
        previous[row.name] = row
    return entries


def _history_query(account_id: str, policy_name: str | None) -> Any:
    audit, runs, policies = schema.audit_records, schema.runs, schema.policies
    query = (
        select(
            audit.c.run_id,
            audit.c.line,
            audit.c.tier,
            audit.c.previous_tier,
            audit.c.change,
            audit.c.excluded,
            audit.c.score,
            audit.c.reason,
            audit.c.explanation,
            runs.c.as_of,
            runs.c.started_at,
            policies.c.name,
            policies.c.version,
        )
        .join(runs, runs.c.id == audit.c.run_id)
        .join(policies, policies.c.id == runs.c.policy_id)
        .where(audit.c.account_id == account_id)
    )
    if policy_name is not None:
        query = query.where(policies.c.name == policy_name)
    return query.order_by(audit.c.id)


def _fired_actions(
    conn: Connection, account_id: str
) -> defaultdict[tuple[str, int], list[str]]:
    outbox = schema.outbox
    fired: defaultdict[tuple[str, int], list[str]] = defaultdict(list)
    rows = conn.execute(
        select(outbox.c.run_id, outbox.c.line, outbox.c.kind, outbox.c.target)
        .where(outbox.c.account_id == account_id)
        .order_by(outbox.c.id)
    )
    for row in rows:
        fired[(row.run_id, row.line)].append(f'{row.kind} "{row.target}"')
    return fired


def _entry(row: Row[Any], before: Row[Any] | None, fired: list[str]) -> HistoryEntry:
    return HistoryEntry(
        policy_name=row.name,
        policy_version=row.version,
        run_id=row.run_id,
        as_of=row.as_of,
        started_at=utc(row.started_at),
        line=row.line,
        tier=row.tier,
        previous_tier=row.previous_tier,
        change=row.change,
        excluded=row.excluded,
        score=row.score,
        previous_score=before.score if before is not None else None,
        previous_version=before.version if before is not None else None,
        reason=row.reason,
        moved=moved(_parts(before), _parts(row)) if before is not None else (),
        fired=tuple(fired),
    )


def _parts(row: Row[Any]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = json.loads(row.explanation)["contributions"]
    return parts


def moved(
    before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]
) -> tuple[Moved, ...]:
    """The criteria whose contribution changed, the largest change first.

    A criterion only one of the two gradings has counts as 0 in the other.
    """
    old = {part["criterion"]: Decimal(str(part["contribution"])) for part in before}
    new = {part["criterion"]: Decimal(str(part["contribution"])) for part in after}
    names = list(new) + [name for name in old if name not in new]
    changes = [
        Moved(name, old.get(name, Decimal(0)), new.get(name, Decimal(0)))
        for name in names
        if old.get(name, Decimal(0)) != new.get(name, Decimal(0))
    ]
    return tuple(sorted(changes, key=lambda m: abs(m.delta), reverse=True))
