"""tierwise's SQL pushdown: the policy compiled to one query run inside PostgreSQL.

`grade_in_database` connects, reflects `tierwise_bench.accounts`, compiles
the policy to SQL and writes the results table (`into`) in the same schema,
with each criterion's points, as the hand-written SQL does. Connecting and
reflecting are part of what the call does, so they are timed with it;
loading and compiling the policy are not.
"""

from __future__ import annotations

from tierwise.engine import load_policy
from tierwise.engine.pushdown import grade_in_database

from common import Context
from engines import TableEngine
from engines.postgres_hand import read_table


def grade_table(ctx: Context) -> TableEngine:
    policy = load_policy(ctx.policy_path)
    as_of = policy.as_of(ctx.as_of)
    source = f"{ctx.pg_schema}.{ctx.pg_table}"

    def grade(results: str) -> None:
        summary = grade_in_database(
            policy,
            ctx.pg_url,
            source,
            as_of=as_of,
            into=f"{ctx.pg_schema}.{results}",
        )
        if summary.rejected:
            raise RuntimeError(f"pushdown rejected {summary.rejected} rows")

    return TableEngine(grade=grade, read=lambda results: read_table(ctx, results))
