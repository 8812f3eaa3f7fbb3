"""Recording a run in the store, one batch of records per transaction.

A `RunRecorder` takes graded and rejected records as a run produces them and
writes them in batches. Each batch is one transaction that:

1. checks that this process still owns the run (a resume elsewhere takes it
   over, and the old process then stops instead of writing twice);
2. reads the current tiers of the batch's accounts under the policy's name,
   decides which actions fire (`triggers.fires`) and updates those tiers;
3. inserts the raw inputs (once per digest), the audit and rejected records
   and the fired actions (the outbox), and moves the run's `last_line` and
   counts forward.

A run killed at any point has committed whole batches only, and its
`last_line` says where they end; `resume_run` carries on after it. Input
lines are unique within a run (a unique constraint), and so are outbox keys,
so nothing can be recorded twice.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from tierwise.engine.policy import AsOf, CompiledPolicy, RecordError, format_decimal
from tierwise.engine.readers import InputRecord
from tierwise.engine.result import GradeResult, Rejected
from tierwise.engine.run import Graded, RunSummary, record_digest
from tierwise.engine.store import schema
from tierwise.engine.store.connect import write_transaction
from tierwise.engine.store.errors import StoreError
from tierwise.engine.store.ledger import ExplanationText
from tierwise.engine.store.sql import execute_many, insert_ignoring, upsert
from tierwise.engine.store.triggers import fires

log = logging.getLogger(__name__)

BATCH_SIZE = 1000


@dataclass(frozen=True)
class FiredAction:
    """An action the store fired and put in the outbox."""

    key: str  # the idempotency key: run id, input line, action index
    account_id: str | None
    kind: str
    target: str
    trigger: str
    previous_tier: str | None
    tier: str


@dataclass(frozen=True)
class Recorded:
    """A grade recorded in the store, with the actions it fired."""

    result: GradeResult
    fired: tuple[FiredAction, ...]


@dataclass
class RunCounts:
    """A run's committed counts; `read` reconciles with the records stored."""

    graded: int = 0
    excluded: int = 0
    rejected: int = 0
    new_accounts: int = 0
    changed: int = 0
    fired: int = 0
    tiers: dict[str, int] = field(default_factory=dict)

    @property
    def read(self) -> int:
        return self.graded + self.excluded + self.rejected

    def copy(self) -> RunCounts:
        return RunCounts(**{**self.__dict__, "tiers": dict(self.tiers)})

    def row(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class _Current:
    tier: str | None
    since_run_id: str


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def input_text(record: InputRecord) -> str:
    """A raw record as JSON text, its fields in the order the input had them."""
    data = dict(zip(record.fields, record.values))
    return json.dumps(data, ensure_ascii=False, default=str)


class RunRecorder:
    """Writes one run's records to the store; use `start_run` or `resume_run`.

    Not thread-safe: one run is recorded by one thread. Use it as a context
    manager (or call `finish`) so that the last batch is written and the run
    marked complete, or marked failed if grading raised.
    """

    def __init__(
        self,
        engine: Engine,
        policy: CompiledPolicy,
        run_id: str,
        as_of: AsOf,
        *,
        owner: str,
        last_line: int = 0,
        counts: RunCounts | None = None,
        batch_size: int = BATCH_SIZE,
    ):
        self.engine = engine
        self.policy = policy
        self.run_id = run_id
        self.as_of = as_of
        self.resumed_after = last_line
        self.counts = counts or RunCounts()
        self.last_line = last_line
        self._owner = owner
        self._batch_size = batch_size
        self._pending: list[Graded | tuple[Rejected, InputRecord | None]] = []
        self._current_record: InputRecord | None = None
        self._done = False
        self.explain = ExplanationText()

    # ---- taking records ----------------------------------------------------

    def track(self, records: Iterable[InputRecord]) -> Iterator[InputRecord]:
        """Pass `records` through, remembering each so a reject keeps its input."""
        for record in records:
            self._current_record = record
            yield record

    def graded(self, graded: Graded) -> None:
        """Take a graded (or excluded) record; committed batches are skipped."""
        if graded.line <= self.resumed_after:
            return
        self._add(graded)

    def rejected(self, rejected: Rejected, record: InputRecord | None = None) -> None:
        """Take a rejected record, with its input: `record`, or the one `track`
        saw."""
        if rejected.line is not None and rejected.line <= self.resumed_after:
            return
        record = record or self._current_record
        if record is None or record.line != rejected.line:
            record = None
        self._add((rejected, record))

    def grade(self, facts: Mapping[str, Any], *, id: str | None = None) -> Recorded:
        """Grade one account given as a mapping, record it now, say what fired.

        A record that cannot be read is recorded as rejected and `RecordError`
        is raised, as `CompiledPolicy.grade` does.
        """
        line = self.last_line + len(self._pending) + 1
        record = InputRecord(line, tuple(facts), tuple(facts.values()))
        try:
            result = self.policy.grade(facts, as_of=self.as_of, id=id)
        except RecordError as exc:
            self._add((Rejected(id=id, line=line, problems=exc.problems), record))
            self.flush()
            raise
        self._add(Graded(result, line, record))
        fired = self.flush()
        return Recorded(result, tuple(fired))

    def _add(self, item: Graded | tuple[Rejected, InputRecord | None]) -> None:
        self._pending.append(item)
        if len(self._pending) >= self._batch_size:
            self.flush()

    # ---- writing batches ---------------------------------------------------

    def flush(self) -> list[FiredAction]:
        """Write the pending records in one transaction; the actions that fired."""
        if not self._pending:
            return []
        batch = self._pending
        counts = self.counts.copy()
        with write_transaction(self.engine, lock=f"policy:{self.policy.name}") as conn:
            self._claim(conn)
            writer = _BatchWriter(self, conn, counts)
            fired = writer.write(batch)
            last_line = max(self.last_line, writer.last_line)
            self._save_progress(conn, counts, last_line)
        self._pending = []
        self.counts = counts
        self.last_line = last_line
        log.debug("run %s: committed through line %d", self.run_id, last_line)
        return fired

    def _claim(self, conn: Connection) -> None:
        claimed = conn.execute(
            update(schema.runs)
            .where(
                schema.runs.c.id == self.run_id,
                schema.runs.c.owner == self._owner,
                schema.runs.c.status == "running",
            )
            .values(updated_at=now())
        )
        if claimed.rowcount != 1:
            raise StoreError(
                f"run {self.run_id} is no longer this process's to record: it "
                "was resumed elsewhere or marked finished"
            )

    def _save_progress(self, conn: Connection, counts: RunCounts, line: int) -> None:
        conn.execute(
            update(schema.runs)
            .where(schema.runs.c.id == self.run_id)
            .values(last_line=line, updated_at=now(), **counts.row())
        )

    # ---- ending ------------------------------------------------------------

    def finish(
        self, summary: RunSummary | None = None, *, input_digest: str | None = None
    ) -> RunCounts:
        """Write what is pending and mark the run complete; its counts.

        `input_digest` replaces the run's, for inputs only known once read.
        """
        self.flush()
        if summary is not None:
            self._check_reconciles(summary)
        digest = {} if input_digest is None else {"input_digest": input_digest}
        with write_transaction(self.engine) as conn:
            self._claim(conn)
            conn.execute(
                update(schema.runs)
                .where(schema.runs.c.id == self.run_id)
                .values(status="complete", finished_at=now(), error=None, **digest)
            )
        self._done = True
        return self.counts

    def _check_reconciles(self, summary: RunSummary) -> None:
        stored = (self.counts.graded, self.counts.excluded, self.counts.rejected)
        graded = (summary.graded, summary.excluded, summary.rejected)
        if stored != graded:
            raise StoreError(
                f"run {self.run_id} stored {stored[0]} graded, {stored[1]} excluded "
                f"and {stored[2]} rejected records but graded {graded[0]}, "
                f"{graded[1]} and {graded[2]}"
            )

    def fail(self, error: str) -> None:
        """Mark the run failed (it can be resumed); what is pending is dropped."""
        self._pending = []
        self._done = True
        try:
            with write_transaction(self.engine) as conn:
                conn.execute(
                    update(schema.runs)
                    .where(
                        schema.runs.c.id == self.run_id,
                        schema.runs.c.owner == self._owner,
                    )
                    .values(status="failed", error=error[:2000], updated_at=now())
                )
        except Exception:  # the run stays 'running', which resumes the same way
            log.exception("could not mark run %s failed", self.run_id)

    def __enter__(self) -> RunRecorder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._done:
            return
        if error is None:
            self.finish()
        else:
            self.fail(str(error) or type(error).__name__)


class _BatchWriter:
    """Turns one batch into rows and writes them, inside the caller's transaction."""

    def __init__(self, recorder: RunRecorder, conn: Connection, counts: RunCounts):
        self.recorder = recorder
        self.conn = conn
        self.counts = counts
        self.run_id = recorder.run_id
        self.policy = recorder.policy
        self.last_line = 0
        self.inputs: dict[str, str] = {}
        self.audit: list[dict[str, Any]] = []
        self.rejects: list[dict[str, Any]] = []
        self.outbox: list[dict[str, Any]] = []
        self.tiers: dict[str, dict[str, Any]] = {}
        self.fired: list[FiredAction] = []

    def write(
        self, batch: list[Graded | tuple[Rejected, InputRecord | None]]
    ) -> list[FiredAction]:
        accounts = {
            item.result.id
            for item in batch
            if isinstance(item, Graded) and item.result.id is not None
        }
        current = self._current(accounts)
        for item in batch:
            if isinstance(item, Graded):
                self._graded(item, current)
            else:
                self._rejected(*item)
        self._insert()
        return self.fired

    def _current(self, accounts: set[str]) -> dict[str, _Current]:
        table = schema.current_tiers
        found: dict[str, _Current] = {}
        ordered = sorted(accounts)
        for start in range(0, len(ordered), 500):
            rows = self.conn.execute(
                select(table.c.account_id, table.c.tier, table.c.since_run_id).where(
                    table.c.policy_name == self.policy.name,
                    table.c.account_id.in_(ordered[start : start + 500]),
                )
            )
            found.update({row[0]: _Current(row[1], row[2]) for row in rows})
        return found

    def _graded(self, graded: Graded, current: dict[str, _Current]) -> None:
        result = graded.result
        account = result.id
        prior = current.get(account) if account is not None else None
        previous = prior.tier if prior is not None else None
        if prior is None:
            change = "new"
        else:
            change = "same" if previous == result.tier else "changed"
        self._count(result, change)
        digest = graded.input_digest()
        self.inputs[digest] = input_text(graded.record)
        self.audit.append(self._audit_row(graded, previous, change, digest))
        self._fire(graded, previous)
        if account is not None:
            kept = prior is not None and change == "same"
            since = prior.since_run_id if prior is not None and kept else self.run_id
            current[account] = _Current(result.tier, since)
            self.tiers[account] = self._tier_row(result, current[account])
        self.last_line = max(self.last_line, graded.line)

    def _count(self, result: GradeResult, change: str) -> None:
        counts = self.counts
        if result.excluded:
            counts.excluded += 1
        else:
            counts.graded += 1
            tier = result.tier or ""
            counts.tiers[tier] = counts.tiers.get(tier, 0) + 1
        counts.new_accounts += change == "new"
        counts.changed += change == "changed"

    def _audit_row(
        self, graded: Graded, previous: str | None, change: str, digest: str
    ) -> dict[str, Any]:
        result = graded.result
        return {
            "run_id": self.run_id,
            "line": graded.line,
            "account_id": result.id,
            "tier": result.tier,
            "previous_tier": previous,
            "change": change,
            "excluded": result.excluded,
            "score": format_decimal(result.score),
            "reason": result.reason,
            "explanation": self.recorder.explain(result),
            "input_digest": digest,
        }

    def _fire(self, graded: Graded, previous: str | None) -> None:
        result = graded.result
        for index, action in enumerate(result.actions):
            if not fires(action, previous, result.tier):
                continue
            fired = FiredAction(
                key=f"{self.run_id}:{graded.line}:{index}",
                account_id=result.id,
                kind=action.kind,
                target=action.target,
                trigger=action.trigger,
                previous_tier=previous,
                tier=result.tier or "",
            )
            self.fired.append(fired)
            self.outbox.append(self._outbox_row(fired, graded, action.trigger_tier))
            self.counts.fired += 1

    def _outbox_row(
        self, fired: FiredAction, graded: Graded, trigger_tier: str | None
    ) -> dict[str, Any]:
        return {
            **fired.__dict__,
            "run_id": self.run_id,
            "line": graded.line,
            "policy_name": self.policy.name,
            "policy_version": self.policy.version,
            "trigger_tier": trigger_tier,
            "score": format_decimal(graded.result.score),
            "reason": graded.result.reason,
            "as_of": graded.result.as_of,
            "status": "pending",
            "attempts": 0,
            "created_at": now(),
        }

    def _tier_row(self, result: GradeResult, current: _Current) -> dict[str, Any]:
        return {
            "policy_name": self.policy.name,
            "account_id": result.id,
            "tier": current.tier,
            "score": format_decimal(result.score),
            "run_id": self.run_id,
            "since_run_id": current.since_run_id,
            "updated_at": now(),
        }

    def _rejected(self, rejected: Rejected, record: InputRecord | None) -> None:
        digest = None
        if record is not None and record.fields:
            digest = record_digest(record)
            self.inputs[digest] = input_text(record)
        self.counts.rejected += 1
        self.rejects.append(
            {
                "run_id": self.run_id,
                "line": rejected.line,
                "account_id": rejected.id,
                "problems": [p.model_dump() for p in rejected.problems],
                "record_problem": record.problem if record is not None else None,
                "input_digest": digest,
            }
        )
        self.last_line = max(self.last_line, rejected.line or 0)

    def _insert(self) -> None:
        conn = self.conn
        inputs = [{"digest": d, "record": self.inputs[d]} for d in sorted(self.inputs)]
        execute_many(conn, insert_ignoring(conn, schema.inputs, ["digest"]), inputs)
        execute_many(conn, schema.audit_records.insert(), self.audit)
        execute_many(conn, schema.rejected_records.insert(), self.rejects)
        tiers = [self.tiers[account] for account in sorted(self.tiers)]
        key = ["account_id", "policy_name"]
        execute_many(conn, upsert(conn, schema.current_tiers, key), tiers)
        execute_many(conn, schema.outbox.insert(), self.outbox)
