"""bench/policy.grade written by hand as polars expressions, CSV in, CSV out.

A lazy query over the export (`scan_csv`, every column as text) reads the
facts the way the policy does (trimmed, lower-cased text, blank as missing,
"1,200", "$4,500", "n/a", yes/no words), scores the ten criteria with
`when/then` chains and writes id, tier, score and each criterion's points
with `sink_csv`, so the file streams through in batches.

polars' `when` treats a null condition as false and `&`/`|` follow Kleene's
logic, as the policy does; each criterion's `missing` branch is an explicit
`is_null` test placed where the policy would reach it. Scores are integer
hundredths until the text is written, so they are exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl

from common import CRITERIA, Context

TARGET = ["software", "fintech", "healthcare it", "e-commerce"]
ADJACENT = ["financial services", "media", "retail", "logistics", "telecommunications"]
NORTH_AMERICA = ["united states", "canada", "méxico"]
EUROPE = [
    "united kingdom",
    "germany",
    "france",
    "netherlands",
    "spain",
    "sweden",
    "türkiye",
]
OTHER_CRMS = ["hubspot", "microsoft dynamics", "pipedrive", "zoho crm"]
WAREHOUSES = ["snowflake", "bigquery", "redshift", "databricks"]
WEIGHTS = (15, 10, 15, 5, 10, 10, 15, 10, 5, 5)


# ---- reading the export ------------------------------------------------------------


def text(column: str) -> pl.Expr:
    key = pl.col(column).str.strip_chars().str.to_lowercase()
    return pl.when(key != "").then(key)


def integer(column: str, no_value: tuple[str, ...] = ()) -> pl.Expr:
    raw = pl.col(column).str.strip_chars()
    value = raw.str.replace_all(",", "").cast(pl.Int64)
    absent = (raw == "") | raw.str.to_lowercase().is_in(list(no_value))
    return pl.when(~absent).then(value)


def money(column: str) -> pl.Expr:
    raw = pl.col(column).str.strip_chars()
    return pl.when(raw != "").then(raw.str.replace_all(r"[$,]", "").cast(pl.Int64))


def tools(column: str) -> pl.Expr:
    items = (
        pl.col(column)
        .str.split(";")
        .list.eval(pl.element().str.strip_chars().str.to_lowercase())
    )
    kept = items.list.eval(pl.element().filter(pl.element() != ""))
    return pl.when(kept.list.len() > 0).then(kept)


def yes(column: str) -> pl.Expr:
    word = pl.col(column).str.strip_chars().str.to_lowercase()
    return word.is_in(["true", "yes", "y", "1"])


def facts(today: dt.date) -> list[pl.Expr]:
    last = pl.col("Last Activity").str.strip_chars().str.to_date("%Y-%m-%d")
    return [
        pl.col("Account ID").alias("id"),
        integer("Employees", ("n/a", "unknown")).alias("employees"),
        money("Annual Revenue").alias("revenue"),
        text("Industry").alias("industry"),
        text("Country").alias("country"),
        tools("Technologies").alias("tools"),
        integer("Web Visits (30d)").fill_null(0).alias("visits"),
        (pl.lit(today) - last).dt.total_days().alias("days"),
        integer("Open Opportunities").fill_null(0).alias("opportunities"),
        integer("Intent Score").alias("intent"),
        text("Plan").alias("plan"),
        integer("Active Users").fill_null(0).alias("users"),
        yes("Is Customer").alias("customer"),
    ]


# ---- the ten criteria, in points -----------------------------------------------------


def firmographic() -> list[pl.Expr]:
    emp, rev = pl.col("employees"), pl.col("revenue")
    industry, country = pl.col("industry"), pl.col("country")
    return [
        pl.when(emp.is_null()).then(0).when(emp >= 1000).then(100)
        .when(emp.is_between(200, 999)).then(70)
        .when(emp.is_between(50, 199)).then(40).otherwise(10),
        pl.when(rev.is_null()).then(0).when(rev >= 100_000_000).then(100)
        .when(rev >= 10_000_000).then(60).when(rev >= 1_000_000).then(30)
        .otherwise(5),
        pl.when(industry.is_in(TARGET)).then(100)
        .when(industry.is_in(ADJACENT)).then(50)
        .when(industry == "government").then(-20).otherwise(0),
        pl.when(country.is_null()).then(0).when(country.is_in(NORTH_AMERICA))
        .then(100).when(country.is_in(EUROPE)).then(70).otherwise(20),
    ]  # fmt: skip


def technographic() -> list[pl.Expr]:
    stack = pl.col("tools")
    has = stack.list.contains

    def any_of(values: list[str]) -> pl.Expr:
        return stack.list.eval(pl.element().is_in(values)).list.any()

    return [
        pl.when(stack.is_null()).then(0).when(has("salesforce")).then(100)
        .when(any_of(OTHER_CRMS)).then(40).otherwise(0),
        pl.when(stack.is_null()).then(0).when(has("snowflake") & has("dbt")).then(100)
        .when(any_of(WAREHOUSES)).then(60).otherwise(0),
    ]  # fmt: skip


def behavioural() -> list[pl.Expr]:
    days, visits = pl.col("days"), pl.col("visits")
    intent, plan, users = pl.col("intent"), pl.col("plan"), pl.col("users")
    emp, rev = pl.col("employees"), pl.col("revenue")
    per_head = [
        pl.when(emp > 0).then(rev >= emp * n).otherwise(rev <= emp * n)
        for n in (250_000, 100_000)
    ]
    return [
        pl.when(days.is_between(0, 30) & (visits >= 50)).then(100)
        .when(days.is_between(0, 90)).then(50).when(visits >= 20).then(30)
        .when(days.is_null()).then(10).otherwise(0),
        pl.when(pl.col("opportunities") >= 1).then(100).when(intent.is_null())
        .then(0).when(intent >= 80).then(100).when(intent >= 50).then(50)
        .otherwise(0),
        pl.when((plan == "enterprise") | (users >= 50)).then(100)
        .when(plan.is_null()).then(0).when(plan.is_in(["starter", "pro"]))
        .then(60).otherwise(20),
        pl.when(rev.is_null() | emp.is_null() | (emp == 0)).then(0)
        .when(per_head[0]).then(100).when(per_head[1]).then(50).otherwise(10),
    ]  # fmt: skip


def parts() -> list[pl.Expr]:
    points = [*firmographic(), *technographic(), *behavioural()]
    return [(p * w).alias(f"u{i}") for i, (p, w) in enumerate(zip(points, WEIGHTS))]


def tier() -> pl.Expr:
    units = pl.col("units")
    strategic = (pl.col("employees") >= 10000) & pl.col("industry").is_in(TARGET)
    return (
        pl.when(pl.col("customer")).then(None)
        .when(strategic).then(pl.lit("A"))
        .when(units >= 7500).then(pl.lit("A")).when(units >= 5500).then(pl.lit("B"))
        .when(units >= 3500).then(pl.lit("C")).otherwise(pl.lit("D"))
    )  # fmt: skip


def decimal(units: pl.Expr) -> pl.Expr:
    """Hundredths as the shortest exact decimal text: 9150 -> '91.5'."""
    size = units.abs()
    whole, cents = (size // 100).cast(pl.String), size % 100
    fraction = (cents + 100).cast(pl.String).str.slice(1).str.strip_chars_end("0")
    body = pl.when(cents == 0).then(whole).otherwise(whole + "." + fraction)
    return pl.when(units < 0).then("-" + body).otherwise(body)


def query(input_csv: str, today: dt.date) -> pl.LazyFrame:
    shares = [pl.col(f"u{i}") for i in range(len(CRITERIA))]
    return (
        pl.scan_csv(input_csv, infer_schema=False)
        .select(facts(today))
        .with_columns(parts())
        .with_columns(pl.sum_horizontal(shares).alias("units"))
        .select(
            "id",
            tier().alias("tier"),
            decimal(pl.col("units")).alias("score"),
            *(decimal(s).alias(name) for s, name in zip(shares, CRITERIA)),
        )
    )


def file(ctx: Context) -> Callable[[str, str], None]:
    today = dt.date.fromisoformat(ctx.as_of)
    return lambda input_csv, output_csv: query(input_csv, today).sink_csv(output_csv)
