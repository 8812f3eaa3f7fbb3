"""bench/policy.grade written by hand as DuckDB SQL, CSV in, CSV out.

One `COPY (query) TO` statement reads the export with `read_csv` (every
column as text), reads the facts as the policy does, scores the ten criteria
with `CASE` and writes id, tier, score and each criterion's points. SQL's
NULL is the policy's unknown: a `WHEN` whose condition is NULL is not taken,
and each criterion's `missing` branch is an explicit `IS NULL` test placed
where the policy would reach it. Scores are integer hundredths until they
are written as DECIMAL(18, 2).
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from common import CRITERIA, Context

FACTS = """
select
  "Account ID" as id,
  case when lower(trim("Employees")) in ('', 'n/a', 'unknown') then null
       else cast(replace(trim("Employees"), ',', '') as bigint) end as employees,
  cast(nullif(replace(replace(trim("Annual Revenue"), '$', ''), ',', ''), '')
       as bigint) as revenue,
  nullif(lower(trim("Industry")), '') as industry,
  nullif(lower(trim("Country")), '') as country,
  nullif(list_filter(
    list_transform(string_split("Technologies", ';'), lambda t: lower(trim(t))),
    lambda t: t <> ''), []) as tools,
  coalesce(cast(nullif(trim("Web Visits (30d)"), '') as bigint), 0) as visits,
  date '{as_of}' - cast(nullif(trim("Last Activity"), '') as date) as days,
  coalesce(cast(nullif(trim("Open Opportunities"), '') as bigint), 0)
    as opportunities,
  cast(nullif(trim("Intent Score"), '') as bigint) as intent,
  nullif(lower(trim("Plan")), '') as plan,
  coalesce(cast(nullif(trim("Active Users"), '') as bigint), 0) as users,
  coalesce(lower(trim("Is Customer")) in ('true', 'yes', 'y', '1'), false)
    as customer
from read_csv({source}, all_varchar = true, header = true)
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
  10 * case when tools is null then 0
            when list_contains(tools, 'salesforce') then 100
            when list_has_any(tools, ['hubspot', 'microsoft dynamics', 'pipedrive',
                                      'zoho crm']) then 40
            else 0 end as u4,
  10 * case when tools is null then 0
            when list_has_all(tools, ['snowflake', 'dbt']) then 100
            when list_has_any(tools, ['snowflake', 'bigquery', 'redshift',
                                      'databricks']) then 60
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
           when employees > 0 and revenue >= employees * 250000
             or employees < 0 and revenue <= employees * 250000 then 100
           when employees > 0 and revenue >= employees * 100000
             or employees < 0 and revenue <= employees * 100000 then 50
           else 10 end as u9
from facts
"""

GRADED = """
select id,
  case when customer then null
       when employees >= 10000
        and industry in ('software', 'fintech', 'healthcare it', 'e-commerce')
         then 'A'
       when units >= 7500 then 'A' when units >= 5500 then 'B'
       when units >= 3500 then 'C' else 'D' end as tier,
  cast(units as decimal(18, 2)) / 100 as score,
  {shares}
from (select *, u0 + u1 + u2 + u3 + u4 + u5 + u6 + u7 + u8 + u9 as units
      from points)
"""


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def statement(input_csv: str, output_csv: str, as_of: str) -> str:
    shares = ",\n  ".join(
        f'cast(u{i} as decimal(18, 2)) / 100 as "{name}"'
        for i, name in enumerate(CRITERIA)
    )
    query = (
        f"with facts as ({FACTS.format(as_of=as_of, source=_quoted(input_csv))}),\n"
        f"points as ({POINTS})\n{GRADED.format(shares=shares)}"
    )
    return f"copy ({query}) to {_quoted(output_csv)} (header, delimiter ',')"


def file(ctx: Context) -> Callable[[str, str], None]:
    connection = duckdb.connect()

    def grade_file(input_csv: str, output_csv: str) -> None:
        connection.execute(statement(input_csv, output_csv, ctx.as_of))

    return grade_file
