"""tierwise's per-account API, measured three ways, and its per-account file path.

- `full_result`: `policy.grade(facts, as_of=...)` on the typed dict, the call a
  service makes: reading every fact, grading, and the `GradeResult`, whose
  explanation (contributions, missing facts, reason) is built when first
  read. The as-of is resolved once (`policy.as_of(...)`), as a caller
  grading many accounts would.
- `pre_coerced`: `policy.grade_values(values, as_of)` on values already read
  by `policy.coerce` (reading is untimed): the same `GradeResult`.
- `compiled_function`: the generated evaluator alone, reached through private
  attributes (`policy._generated`, `policy._bounds`). Not an API; shown only
  to tell the cost of evaluation from the cost of the ledger.
- `file`: the per-account batch path behind `tierwise grade`: the streaming
  reader, `grade_records`, and a CSV writer adding each criterion's points.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import Any

from tierwise.engine import load_policy
from tierwise.engine.policy import CompiledPolicy, format_decimal
from tierwise.engine.readers import RecordReader
from tierwise.engine.result import GradeResult, Rejected
from tierwise.engine.run import Graded, grade_records

from common import CRITERIA, Context, decimal_text
from engines import RowEngine


def _outcome(result: GradeResult) -> tuple[str | None, str]:
    return result.tier, decimal_text(result.score)


def full_result(ctx: Context) -> RowEngine:
    policy = load_policy(ctx.policy_path)
    as_of = policy.as_of(ctx.as_of)
    return RowEngine(
        grade=lambda account: policy.grade(account, as_of=as_of), outcome=_outcome
    )


def coercer(policy: CompiledPolicy) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """Typed fact values from a dict, through the public `bind` and `coerce`."""
    bindings: dict[tuple[str, ...], list[int | None]] = {}
    names = [fact.name for fact in policy.facts]

    def coerce(account: dict[str, Any]) -> tuple[Any, ...]:
        header = tuple(account)
        if header not in bindings:
            bindings[header] = policy.bind(header)
        values = list(account.values())
        raw = [None if p is None else values[p] for p in bindings[header]]
        coerced: tuple[Any, ...] = policy.coerce(raw, names)
        return coerced

    return coerce


def pre_coerced(ctx: Context) -> RowEngine:
    policy = load_policy(ctx.policy_path)
    as_of = policy.as_of(ctx.as_of)
    return RowEngine(
        prepare=coercer(policy),
        grade=lambda values: policy.grade_values(values, as_of),
        outcome=_outcome,
    )


def compiled_function(ctx: Context) -> RowEngine:
    policy = load_policy(ctx.policy_path)
    as_of = policy.as_of(ctx.as_of)
    evaluate = policy._generated.function
    bounds = policy._bounds(as_of)
    today, now = as_of.today, as_of.now
    tiers = [tier.name for tier in policy.checked.policy.tiers]

    def outcome(raw: tuple[Any, ...]) -> tuple[str | None, str]:
        result = policy.result_from(raw, (), as_of)  # the score in units, as text
        return (None if raw[3] else tiers[raw[1]]), decimal_text(result.score)

    return RowEngine(
        prepare=coercer(policy),
        grade=lambda values: evaluate(values, today, now, bounds),
        outcome=outcome,
    )


def file(ctx: Context) -> Callable[[str, str], None]:
    policy = load_policy(ctx.policy_path)
    as_of = policy.as_of(ctx.as_of)

    def grade_file(input_csv: str, output_csv: str) -> None:
        with open(output_csv, "w", newline="", encoding="utf-8") as target:
            writer = csv.writer(target)
            writer.writerow(("id", "tier", "score", *CRITERIA))

            def on_graded(graded: Graded) -> None:
                result = graded.result
                points = [format_decimal(c.contribution) for c in result.contributions]
                score = format_decimal(result.score)
                writer.writerow((result.id, result.tier or "", score, *points))

            summary = grade_records(
                policy,
                RecordReader(input_csv),
                as_of=as_of,
                on_graded=on_graded,
                on_rejected=_refuse,
            )
        if not summary.reconciles or summary.rejected:
            raise RuntimeError(f"tierwise rejected {summary.rejected} records")

    return grade_file


def _refuse(rejected: Rejected) -> None:
    raise RuntimeError(f"tierwise rejected a record: {rejected}")
