"""Starting a run in the store, or resuming one that stopped partway.

`start_run` stores the policy version (once per content hash) and a run row
marked `running`, committed before any record is graded, so that a run killed
at once can still be found and resumed. `resume_run` checks that the policy,
the input and the way it is read are those the run started with, takes the
run over (a new owner token: a process still recording it stops at its next
batch) and carries on after the last committed line.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, select, update

from tierwise.engine.policy import AsOf, CompiledPolicy
from tierwise.engine.store import schema
from tierwise.engine.store.connect import write_transaction
from tierwise.engine.store.errors import StoreError
from tierwise.engine.store.recorder import BATCH_SIZE, RunCounts, RunRecorder, now
from tierwise.engine.store.sql import insert_ignoring


@dataclass(frozen=True)
class RunInput:
    """What a run reads: a name for people, a digest of its content, how it is read."""

    name: str
    digest: str
    options: dict[str, Any] = field(default_factory=dict)


IN_PROCESS = RunInput("in-process", "", {"ids": "given"})
"""What an in-process run reads: accounts whose ids come with their facts."""


def file_digest(path: str | Path) -> str:
    """The SHA-256 digest of a file's bytes, as `sha256:HEX`."""
    with open(path, "rb") as handle:
        return "sha256:" + hashlib.file_digest(handle, "sha256").hexdigest()


def store_policy(conn: Connection, policy: CompiledPolicy) -> int:
    """The id of the stored policy version, storing it if it is new."""
    table = schema.policies
    conn.execute(
        insert_ignoring(conn, table, ["name", "hash"]).values(
            name=policy.name,
            version=policy.version,
            hash=policy.hash,
            source=policy.source,
            path=policy.path,
            stored_at=now(),
        )
    )
    found = conn.scalar(
        select(table.c.id).where(
            table.c.name == policy.name, table.c.hash == policy.hash
        )
    )
    assert found is not None
    return int(found)


def start_run(
    engine: Engine,
    policy: CompiledPolicy,
    as_of: AsOf,
    source: RunInput,
    *,
    run_id: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> RunRecorder:
    """Record a new run of `policy` over `source`; returns its recorder."""
    run_id = run_id or uuid.uuid4().hex
    owner = uuid.uuid4().hex
    counts = RunCounts(tiers={tier.name: 0 for tier in policy.checked.policy.tiers})
    with write_transaction(engine) as conn:
        policy_id = store_policy(conn, policy)
        conn.execute(
            schema.runs.insert().values(
                id=run_id,
                policy_id=policy_id,
                as_of=as_of.label,
                input_name=source.name,
                input_digest=source.digest,
                options=source.options,
                status="running",
                owner=owner,
                started_at=now(),
                updated_at=now(),
                last_line=0,
                **counts.row(),
            )
        )
    return RunRecorder(
        engine,
        policy,
        run_id,
        as_of,
        owner=owner,
        counts=counts,
        batch_size=batch_size,
    )


def resume_run(
    engine: Engine,
    run_id: str,
    policy: CompiledPolicy,
    source: RunInput,
    *,
    batch_size: int = BATCH_SIZE,
) -> RunRecorder:
    """Take over the unfinished run `run_id` and carry on after its last batch."""
    owner = uuid.uuid4().hex
    with write_transaction(engine) as conn:
        row = _run_for_update(conn, run_id)
        check_resumable(row, policy, source)
        conn.execute(
            update(schema.runs)
            .where(schema.runs.c.id == run_id)
            .values(owner=owner, status="running", error=None, updated_at=now())
        )
    counts = RunCounts(
        **{name: row._mapping[name] for name in RunCounts().row() if name != "tiers"},
        tiers=dict(row.tiers),
    )
    return RunRecorder(
        engine,
        policy,
        run_id,
        policy.as_of(row.as_of),
        owner=owner,
        last_line=row.last_line,
        counts=counts,
        batch_size=batch_size,
    )


def _run_for_update(conn: Connection, run_id: str) -> Row[Any]:
    runs, policies = schema.runs, schema.policies
    row = conn.execute(
        select(runs, policies.c.name, policies.c.version, policies.c.hash)
        .join(policies, policies.c.id == runs.c.policy_id)
        .where(runs.c.id == run_id)
        .with_for_update(of=runs)
    ).first()
    if row is None:
        raise StoreError(f"no run '{run_id}' in the store")
    return row


def check_resumable(row: Row[Any], policy: CompiledPolicy, source: RunInput) -> None:
    """Raise `StoreError` unless the run can go on with this policy and input."""
    if row.status == "complete":
        raise StoreError(f"run {row.id} is complete: there is nothing to resume")
    if row.hash != policy.hash:
        raise StoreError(
            f"run {row.id} graded with policy '{row.name}' version {row.version} "
            f"(hash {row.hash[:12]}), not '{policy.name}' version {policy.version} "
            f"(hash {policy.hash[:12]}): resume it with the policy it started with"
        )
    if row.input_digest != source.digest:
        raise StoreError(
            f"{source.name} is not the input run {row.id} started with "
            f"({row.input_name}, {row.input_digest[:19]}); grade it as a new run"
        )
    for name, value in row.options.items():
        if source.options.get(name) != value:
            raise StoreError(
                f"run {row.id} read its input with {name} {value!r}, "
                f"not {source.options.get(name)!r}"
            )
