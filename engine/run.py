"""One batch of grading: records in, results and rejects out, counts that add up.

`grade_records` streams an input through a compiled policy and hands each
graded or rejected record to the caller's sinks as soon as it is ready, so
memory stays flat however large the input is. Its `RunSummary` reconciles:
read = graded + excluded + rejected.
"""

from __future__ import annotations

import csv
import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from tierwise.dsl.errors import InputError
from tierwise.engine.policy import AsOf, CompiledPolicy, RecordError, format_decimal
from tierwise.engine.readers import InputRecord
from tierwise.engine.result import FieldProblem, GradeResult, Rejected


@dataclass
class RunSummary:
    run_id: str
    as_of: str
    read: int = 0
    graded: int = 0
    excluded: int = 0
    rejected: int = 0
    tiers: Counter[str] = field(default_factory=Counter)
    unread_columns: list[str] = field(default_factory=list)

    @property
    def reconciles(self) -> bool:
        return self.read == self.graded + self.excluded + self.rejected


@dataclass(frozen=True)
class Graded:
    """A graded record with what the audit trail needs about its input."""

    result: GradeResult
    line: int
    record: InputRecord

    def input_digest(self) -> str:
        return record_digest(self.record)


def record_digest(record: InputRecord) -> str:
    """A stable digest of a record's raw fields, to tie an audit entry to its input."""
    canonical = json.dumps(
        dict(zip(record.fields, record.values)),
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def grade_records(
    policy: CompiledPolicy,
    records: Iterable[InputRecord],
    *,
    as_of: AsOf,
    on_graded: Callable[[Graded], None],
    on_rejected: Callable[[Rejected], None],
    id_field: str | None = None,
    run_id: str | None = None,
    header: bool = True,
) -> RunSummary:
    """Grade `records`, handing each outcome to a sink; `run_id` names the run
    (a new one when None), so that a store recording it can name it first;
    `header`: the records share one header (CSV), as `bind_fields` takes it."""
    summary = RunSummary(run_id or uuid.uuid4().hex, as_of.label)
    summary.tiers.update({tier.name: 0 for tier in policy.checked.policy.tiers})
    binding: tuple[tuple[str, ...], list[int | None], int | None] | None = None
    for record in records:
        summary.read += 1
        if binding is None or binding[0] != record.fields:
            binding = bind_fields(policy, record.fields, id_field, summary, header)
        _, positions, id_position = binding
        ident = _ident(record, id_position)
        if record.problem is not None:
            problem = FieldProblem(field="", value="", reason=record.problem)
            _reject(
                summary,
                on_rejected,
                Rejected(id=ident, line=record.line, problems=(problem,)),
            )
            continue
        raw = [record.values[p] if p is not None else None for p in positions]
        names = [
            record.fields[p] if p is not None else fact.name
            for p, fact in zip(positions, policy.facts)
        ]
        try:
            values = policy.coerce(raw, names)
        except RecordError as exc:
            _reject(
                summary,
                on_rejected,
                Rejected(id=ident, line=record.line, problems=exc.problems),
            )
            continue
        result = policy.grade_values(values, as_of, ident)
        if result.excluded:
            summary.excluded += 1
        else:
            summary.graded += 1
            summary.tiers[result.tier or ""] += 1
        on_graded(Graded(result, record.line, record))
    return summary


def _reject(
    summary: RunSummary, sink: Callable[[Rejected], None], rejected: Rejected
) -> None:
    summary.rejected += 1
    sink(rejected)


def bind_fields(
    policy: CompiledPolicy,
    fields: tuple[str, ...],
    id_field: str | None,
    summary: RunSummary,
    header: bool = True,
) -> tuple[tuple[str, ...], list[int | None], int | None]:
    """Which field each fact reads and which holds the id, for one header.

    `header`: the fields are a header every record shares (CSV), not the
    keys of one record (JSON). Refuses (`InputError`) an input whose header
    has none of the policy's columns, or whose first record lacks
    `--id-column`; keeps in `summary.unread_columns` the columns no record
    bound so far had. Both engines bind fields with this.
    """
    positions = policy.bind(fields)
    first = summary.read == 1
    if first and header and fields and policy.facts:
        if all(p is None for p in positions):
            wanted = ", ".join(f"'{column}'" for column in policy.columns())
            raise InputError(
                f"the input has none of the columns the policy reads ({wanted}); "
                "is it the right file, with the right --delimiter and --encoding?"
            )
    missing = unbound(policy, positions)
    unread = summary.unread_columns
    unread[:] = missing if first else [c for c in unread if c in missing]
    if id_field is None:
        return fields, positions, 0 if fields else None
    folded = [field.casefold() for field in fields]
    if id_field.casefold() in folded:
        return fields, positions, folded.index(id_field.casefold())
    if first and header and fields:
        raise InputError(f"no column '{id_field}' (--id-column) in the input")
    return fields, positions, None


def unbound(policy: CompiledPolicy, positions: list[int | None]) -> list[str]:
    """The columns of the facts that `positions` (from `policy.bind`) lacks."""
    return [
        fact.source or fact.name
        for fact, position in zip(policy.facts, positions)
        if position is None
    ]


def _ident(record: InputRecord, position: int | None) -> str | None:
    if position is None or position >= len(record.values):
        return None
    value = record.values[position]
    return None if value is None else str(value).strip()


# ---- serialising results -----------------------------------------------------------


REJECT_COLUMNS = ("line", "id", "field", "value", "reason")


def rejects_writer(stream: IO[str], name: str) -> Callable[[Rejected], None]:
    """Rejects as `tierwise grade --rejects` writes them to the file `name`:
    one JSON line per record when it ends in .jsonl or .json, else CSV with
    one row per problem."""
    if name.endswith((".jsonl", ".json")):

        def write_json(rejected: Rejected) -> None:
            stream.write(rejected.model_dump_json() + "\n")

        return write_json
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(REJECT_COLUMNS)

    def write_csv(rejected: Rejected) -> None:
        for p in rejected.problems:
            writer.writerow(
                (rejected.line, rejected.id or "", p.field, p.value, p.reason)
            )

    return write_csv


def json_number(value: Decimal) -> int | float | str:
    """A decimal as a JSON number when that is exact, else as its text."""
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    if Decimal(repr(as_float)) == value:
        return as_float
    return format_decimal(value)


# The order of a result's fields in JSON output, the explanation in the middle.
RECORD_FIELDS = (
    "id",
    "tier",
    "score",
    "excluded",
    "reason",
    "contributions",
    "missing",
    "override",
    "actions",
    "policy",
    "as_of",
)


def result_record(result: GradeResult) -> dict[str, Any]:
    """A result as plain JSON data, numbers exact.

    `actions` are those that fire for the account as a new one, as in the CSV
    output; the audit store decides from the account's history instead.
    """
    dumped = result.model_dump(mode="python")
    data = {name: dumped[name] for name in RECORD_FIELDS}
    data["actions"] = [action.model_dump() for action in result.fired()]
    data["score"] = json_number(result.score)
    for part in data["contributions"]:
        for key in ("weight", "points", "contribution"):
            part[key] = json_number(part[key])
        part["missing"] = list(part["missing"])
    data["missing"] = list(data["missing"])
    return data
