"""Replaying a run: re-grade its stored inputs and compare with what it stored.

The store keeps each run's policy source, as-of and raw input records, so a
run can be graded again exactly as it was, by this version of tierwise,
without the original file. Every graded record must come out with the same
tier, score, explanation and actions, every rejected record rejected for the
same reasons, and every input must still match its stored digest.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, select

from tierwise.engine.policy import compile_policy, format_decimal
from tierwise.engine.readers import InputRecord
from tierwise.engine.result import Rejected
from tierwise.engine.run import Graded, grade_records, record_digest
from tierwise.engine.store import schema
from tierwise.engine.store.history import RunInfo, find_run
from tierwise.engine.store.ledger import EXPLAINED, ExplanationText

PAGE = 1000
COMPARED = ("account_id", "tier", "excluded", "score", "reason", "input_digest")


@dataclass(frozen=True)
class Difference:
    """One way a replayed record differs from the stored one."""

    line: int
    account_id: str | None
    field: str
    stored: Any
    replayed: Any


@dataclass
class ReplayReport:
    run: RunInfo
    checked: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return not self.differences


@dataclass(frozen=True)
class _Stored:
    line: int
    graded: bool
    values: dict[str, Any]  # the stored columns
    record: InputRecord


def replay_run(engine: Engine, run_id: str) -> ReplayReport:
    """Re-grade run `run_id` from the store and report every difference."""
    with engine.connect() as conn:
        run = find_run(conn, run_id)
        source, path = conn.execute(
            select(schema.policies.c.source, schema.policies.c.path).where(
                schema.policies.c.hash == run.policy_hash,
                schema.policies.c.name == run.policy_name,
            )
        ).one()
        policy = compile_policy(source, path)
        report = ReplayReport(run)
        checker = _Checker(report, stored_entries(conn, run_id))
        checker.ids_given = run.options.get("ids") == "given"
        grade_records(
            policy,
            checker.records(),
            as_of=policy.as_of(run.as_of),
            on_graded=checker.graded,
            on_rejected=checker.rejected,
            id_field=run.options.get("id_column"),
            header=False,  # the recorded run has already passed the header checks
        )
    return report


def stored_entries(conn: Connection, run_id: str) -> Iterator[_Stored]:
    """The run's stored records with their inputs, in input order."""
    return heapq.merge(
        _pages(conn, _audit_query(run_id), graded=True),
        _pages(conn, _rejected_query(run_id), graded=False),
        key=lambda entry: entry.line,
    )


def _audit_query(run_id: str) -> Any:
    audit, inputs = schema.audit_records, schema.inputs
    return (
        select(audit, inputs.c.record)
        .join(inputs, inputs.c.digest == audit.c.input_digest)
        .where(audit.c.run_id == run_id)
    )


def _rejected_query(run_id: str) -> Any:
    rejected, inputs = schema.rejected_records, schema.inputs
    return (
        select(rejected, inputs.c.record)
        .outerjoin(inputs, inputs.c.digest == rejected.c.input_digest)
        .where(rejected.c.run_id == run_id)
    )


def _pages(conn: Connection, query: Any, *, graded: bool) -> Iterator[_Stored]:
    line_column = query.selected_columns.line
    last = 0
    while True:
        rows = conn.execute(
            query.where(line_column > last).order_by(line_column).limit(PAGE)
        ).all()
        for row in rows:
            yield _stored(dict(row._mapping), graded)
        if len(rows) < PAGE:
            return
        last = rows[-1].line


def _stored(values: dict[str, Any], graded: bool) -> _Stored:
    data = json.loads(values["record"]) if values["record"] is not None else {}
    problem = None if graded else values["record_problem"]
    record = InputRecord(
        values["line"], tuple(data), tuple(data.values()), problem=problem
    )
    return _Stored(values["line"], graded, values, record)


class _Checker:
    """Feeds stored inputs to the grader and compares what comes out."""

    def __init__(self, report: ReplayReport, entries: Iterator[_Stored]):
        self.report = report
        self.entries = entries
        self.current: _Stored | None = None
        self.explain = ExplanationText()
        self.ids_given = False  # ids came with the facts, not from a column

    def records(self) -> Iterator[InputRecord]:
        for entry in self.entries:
            self.current = entry
            yield entry.record

    def graded(self, graded: Graded) -> None:
        entry = self._take()
        if not entry.graded:
            self._differ(entry, "outcome", "rejected", "graded")
            return
        replayed = self._values(graded)
        if self.ids_given:
            replayed["account_id"] = entry.values["account_id"]
        for name in COMPARED:
            if entry.values[name] != replayed[name]:
                self._differ(entry, name, entry.values[name], replayed[name])
        if entry.values["explanation"] != replayed["explanation"]:
            self._explanations(entry, replayed["explanation"])

    def _explanations(self, entry: _Stored, text: str) -> None:
        """Name the parts of the explanation that differ (their text did)."""
        stored, replayed = json.loads(entry.values["explanation"]), json.loads(text)
        for name in EXPLAINED:
            if stored.get(name) != replayed.get(name):
                self._differ(entry, name, stored.get(name), replayed.get(name))

    def rejected(self, rejected: Rejected) -> None:
        entry = self._take()
        if entry.graded:
            self._differ(entry, "outcome", "graded", "rejected")
            return
        problems = [p.model_dump() for p in rejected.problems]
        if entry.values["problems"] != problems:
            self._differ(entry, "problems", entry.values["problems"], problems)

    def _take(self) -> _Stored:
        assert self.current is not None
        self.report.checked += 1
        return self.current

    def _differ(self, entry: _Stored, name: str, stored: Any, replayed: Any) -> None:
        account = entry.values.get("account_id")
        self.report.differences.append(
            Difference(entry.line, account, name, stored, replayed)
        )

    def _values(self, graded: Graded) -> dict[str, Any]:
        """The replayed record's values, as they would have been stored."""
        result = graded.result
        return {
            "explanation": self.explain(result),
            "account_id": result.id,
            "tier": result.tier,
            "excluded": result.excluded,
            "score": format_decimal(result.score),
            "reason": result.reason,
            "input_digest": record_digest(graded.record),
        }
