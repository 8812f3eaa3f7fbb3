"""tierwise's columnar batch path: `grade_file_columnar`, CSV in, graded CSV out.

The engine reads the export in batches, reads every fact as a typed column
and evaluates the policy as polars expressions; `explain=True` adds each
criterion's points to the output, as the hand-written polars and DuckDB
versions write them.
"""

from __future__ import annotations

from collections.abc import Callable

from tierwise.engine import load_policy
from tierwise.engine.columnar import grade_file_columnar

from common import Context


def file(ctx: Context) -> Callable[[str, str], None]:
    policy = load_policy(ctx.policy_path)
    as_of = policy.as_of(ctx.as_of)

    def grade_file(input_csv: str, output_csv: str) -> None:
        summary = grade_file_columnar(
            policy, input_csv, output_csv, as_of=as_of, explain=True
        )
        if summary.rejected or not summary.reconciles:
            raise RuntimeError(f"columnar engine rejected {summary.rejected} records")

    return grade_file
