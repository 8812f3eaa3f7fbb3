"""Rows of a recorded pushdown run as the audit store takes them.

A query compiled with `record=True` (`tierwise.engine.sql.compile_query`)
returns, besides the grade, the source row, each fact's problem and whether
it is missing, the override slot, the routes that matched and the branch
each criterion took. `RowResults` turns one such row into what
`RunRecorder` records for a file: a `Graded` (a `GradeResult` built by the
policy's own ledger from that outcome, with the source row as its input
record) or a `Rejected` with a `FieldProblem` per unreadable fact.

`RowResults.digest` adds up the rows' digests (`run.record_digest`) modulo
2^256, so that a run's input digest covers every row read whatever order the
database returned them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tierwise.engine.policy import AsOf, CompiledPolicy
from tierwise.engine.readers import InputRecord
from tierwise.engine.result import FieldProblem, GradeResult, Rejected
from tierwise.engine.run import Graded, record_digest
from tierwise.engine.sql import CompiledQuery, RecordColumns

DIGEST_PREFIX = "rows-sha256-sum:"
_MODULUS = 2**256


class RowResults:
    """Turns the rows of one recorded query into graded and rejected records."""

    def __init__(self, policy: CompiledPolicy, query: CompiledQuery, as_of: AsOf):
        assert query.record is not None, "compile the query with record=True"
        self.policy = policy
        self.columns: RecordColumns = query.record
        self.as_of = as_of
        self.branches = list(query.branches.values())
        self.tiers = {t.name: n for n, t in enumerate(policy.checked.policy.tiers)}
        routes = policy.checked.policy.routes
        self.routes = len(routes.routes) if routes else 0
        self._sum = 0

    @property
    def digest(self) -> str:
        return f"{DIGEST_PREFIX}{self._sum:064x}"

    def __call__(
        self, line: int, row: Mapping[Any, Any]
    ) -> tuple[Graded | Rejected, InputRecord]:
        """The row as a graded or rejected record, and its input record."""
        record = InputRecord(
            line,
            self.columns.inputs,
            tuple(row[f"input_{n}"] for n in range(len(self.columns.inputs))),
        )
        digest = record_digest(record)
        self._sum = (self._sum + int(digest.removeprefix("sha256:"), 16)) % _MODULUS
        if row["rejected"]:
            problems = self._problems(row)
            return Rejected(id=row["id"], line=line, problems=problems), record
        return Graded(self._result(row), line, record), record

    def _result(self, row: Mapping[str, Any]) -> GradeResult:
        score = Decimal(str(row["score"]))
        tier = row["tier"]
        outcome = (
            self.policy.units(score),
            self.tiers[tier] if tier is not None else 0,  # unread when excluded
            int(row["slot"]),
            bool(row["excluded"]),
            tuple(n for n in range(self.routes) if int(row["routes"]) >> n & 1),
            tuple(int(row[b]) for b in self.branches),
        )
        values = tuple(
            None if row[f"missing_{n}"] else True
            for n in range(len(self.columns.facts))
        )
        return self.policy.result_from(outcome, values, self.as_of, row["id"])

    def _problems(self, row: Mapping[str, Any]) -> tuple[FieldProblem, ...]:
        problems = []
        for number, column in enumerate(self.columns.facts):
            text = row[f"problem_{number}"]
            if text is None or column is None:
                continue
            value = row[f"input_{self.columns.inputs.index(column)}"]
            reason = text.removeprefix(f"{column}: ")
            problems.append(FieldProblem(field=column, value=str(value), reason=reason))
        return tuple(problems)
