"""bench/policy.grade written by hand as PostgreSQL SQL over the typed table.

One `CREATE TABLE ... AS` statement reads `tierwise_bench.accounts` (loaded
by bench/pg.py), reads the facts as the policy does (trimmed, lower-cased
text, blank as missing, defaults; the `;`-separated tools as a text array),
scores the ten criteria with `CASE` and writes id, tier, score and each
criterion's points to a results table in the same schema. NULL is the
policy's unknown, as in the DuckDB version.
"""

from __future__ import annotations

from collections.abc import Iterator

from psycopg import sql

import pg
from common import CRITERIA, Context, decimal_text
from engines import TableEngine

FACTS = """
select id, employees, annual_revenue as revenue,
  nullif(lower(btrim(industry)), '') as industry,
  nullif(lower(btrim(country)), '') as country,
  nullif(array_remove(regexp_split_to_array(lower(btrim(tech_stack)), '\\s*;\\s*'),
                      ''), '{{}}') as tools,
  coalesce(web_visits_30d, 0) as visits,
  date {as_of} - last_activity as days,
  coalesce(open_opportunities, 0) as opportunities,
  intent_score as intent,
  nullif(lower(btrim(plan)), '') as plan,
  coalesce(active_users, 0) as users,
  coalesce(is_customer, false) as customer
from {source}
"""

POINTS = """
select id, customer, employees, industry,
  15 * case when employees is null then 0 when employees >= 1000 then 100
            when employees between 200 and 999 then 70
            when employees between 50 and 199 then 40 else 10 end as u0,
  10 * case when revenue is null then 0 when revenue >= 100000000 then 100
            when revenue >= 10000000 then 60 when revenue >= 1000000 then 30
            else 5 end as u1,
  15 * case when industry in ('software', 'fintech', 'healthcare it', 'e-commerce')
              then 100
            when industry in ('financial services', 'media', 'retail',
                              'logistics', 'telecommunications') then 50
            when industry = 'government' then -20 else 0 end as u2,
  5 * case when country is null then 0
           when country in ('united states', 'canada', 'méxico') then 100
           when country in ('united kingdom', 'germany', 'france', 'netherlands',
                            'spain', 'sweden', 'türkiye') then 70
           else 20 end as u3,
  10 * case when tools is null then 0 when 'salesforce' = any(tools) then 100
            when tools && array['hubspot', 'microsoft dynamics', 'pipedrive',
                                'zoho crm'] then 40
            else 0 end as u4,
  10 * case when tools is null then 0
            when tools @> array['snowflake', 'dbt'] then 100
            when tools && array['snowflake', 'bigquery', 'redshift', 'databricks']
              then 60
            else 0 end as u5,
  15 * case when days between 0 and 30 and visits >= 50 then 100
            when days between 0 and 90 then 50 when visits >= 20 then 30
            when days is null then 10 else 0 end as u6,
  10 * case when opportunities >= 1 then 100 when intent is null then 0
            when intent >= 80 then 100 when intent >= 50 then 50 else 0 end as u7,
  5 * case when plan = 'enterprise' or users >= 50 then 100
           when plan is null then 0 when plan in ('starter', 'pro') then 60
           else 20 end as u8,
  5 * case when revenue is null or employees is null or employees = 0 then 0
           when revenue / employees >= 250000 then 100
           when revenue / employees >= 100000 then 50 else 10 end as u9
from facts
"""

GRADED = """
create table {target} as
with facts as materialized ({facts}),
  points as materialized ({points})
select id,
  case when customer then null
       when employees >= 10000
        and industry in ('software', 'fintech', 'healthcare it', 'e-commerce')
         then 'A'
       when units >= 7500 then 'A' when units >= 5500 then 'B'
       when units >= 3500 then 'C' else 'D' end as tier,
  units::numeric / 100 as score,
  {shares}
from (select *, u0 + u1 + u2 + u3 + u4 + u5 + u6 + u7 + u8 + u9 as units
      from points) as scored
"""


def statement(ctx: Context, results: str) -> sql.Composed:
    schema = sql.Identifier(ctx.pg_schema)
    shares = sql.SQL(",\n  ").join(
        sql.SQL("u{}::numeric / 100 as {}").format(sql.SQL(str(i)), sql.Identifier(n))
        for i, n in enumerate(CRITERIA)
    )
    facts = sql.SQL(FACTS).format(
        as_of=sql.Literal(ctx.as_of),
        source=sql.SQL("{}.{}").format(schema, sql.Identifier(ctx.pg_table)),
    )
    return sql.SQL(GRADED).format(
        target=sql.SQL("{}.{}").format(schema, sql.Identifier(results)),
        facts=facts,
        points=sql.SQL(POINTS),
        shares=shares,
    )


def read_table(ctx: Context, results: str) -> Iterator[tuple[str, str | None, str]]:
    """Each account's id, tier and score from a results table, in id order."""
    query = sql.SQL("select id, tier, score from {}.{} order by id").format(
        sql.Identifier(ctx.pg_schema), sql.Identifier(results)
    )
    with (
        pg.connect(ctx, autocommit=False) as connection,
        connection.cursor(name="results") as cursor,
    ):
        cursor.itersize = 10_000
        cursor.execute(query)
        for ident, tier, score in cursor:
            yield ident, tier, decimal_text(score)


def grade_table(ctx: Context) -> TableEngine:
    connection = pg.connect(ctx)

    def grade(results: str) -> None:
        connection.execute(statement(ctx, results))

    return TableEngine(grade=grade, read=lambda results: read_table(ctx, results))
