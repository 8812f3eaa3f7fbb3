"""The baseline: bench/policy.grade written by hand as a plain Python function.

`grade` takes one account as typed values (a dict decoded from the JSONL
file: numbers, booleans, lists, ISO dates, null) and returns its tier (None
when excluded) and its score in hundredths of a point, so the score is an
exact integer. It follows the policy's semantics to the letter: text compared
trimmed and case-folded, an unknown fact makes a comparison unknown, a
criterion whose conditions were all false or unknown, with at least one
unknown, takes its `missing` branch.

`grade_file` is the same function behind a hand-written CSV reader and writer
(CRM spellings: "1,200", "$4,500", "n/a", yes/no words), with the points of
every criterion in the output. The reader handles the spellings the
generator writes; unlike tierwise it rejects nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from common import CRITERIA, Context, units_text
from engines import RowEngine

TARGET = frozenset({"software", "fintech", "healthcare it", "e-commerce"})
ADJACENT = frozenset(
    {"financial services", "media", "retail", "logistics", "telecommunications"}
)
NORTH_AMERICA = frozenset({"united states", "canada", "méxico"})
EUROPE = frozenset(
    {"united kingdom", "germany", "france", "netherlands", "spain", "sweden"}
    | {"türkiye"}
)
OTHER_CRMS = frozenset({"hubspot", "microsoft dynamics", "pipedrive", "zoho crm"})
WAREHOUSES = frozenset({"snowflake", "bigquery", "redshift", "databricks"})
SNOWFLAKE_AND_DBT = frozenset({"snowflake", "dbt"})
PAID = frozenset({"starter", "pro"})
WEIGHTS = (15, 10, 15, 5, 10, 10, 15, 10, 5, 5)
TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
NO_VALUE = frozenset({"n/a", "unknown"})


def text_key(value: str | None) -> str | None:
    """Text as the policy compares it; None when missing or blank."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    return (
        text.casefold()
        if text.isascii()
        else unicodedata.normalize("NFC", text).casefold()
    )


def list_keys(values: list[str] | None) -> frozenset[str] | None:
    if not values:
        return None
    keys = frozenset(k for k in map(text_key, values) if k)
    return keys or None


def days_since(value: str | dt.date | None, today: dt.date) -> int | None:
    if value is None:
        return None
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
    return (today - day).days


# ---- the ten criteria: each returns points (a missing branch included) -------------


def company_size(employees: int | None) -> int:
    if employees is None:
        return 0
    if employees >= 1000:
        return 100
    if 200 <= employees <= 999:
        return 70
    return 40 if 50 <= employees <= 199 else 10


def revenue(amount: int | None) -> int:
    if amount is None:
        return 0
    if amount >= 100_000_000:
        return 100
    if amount >= 10_000_000:
        return 60
    return 30 if amount >= 1_000_000 else 5


def industry_fit(industry: str | None) -> int:
    if industry is None:
        return 0
    if industry in TARGET:
        return 100
    if industry in ADJACENT:
        return 50
    return -20 if industry == "government" else 0


def region(country: str | None) -> int:
    if country is None:
        return 0
    if country in NORTH_AMERICA:
        return 100
    return 70 if country in EUROPE else 20


def crm_fit(tools: frozenset[str] | None) -> int:
    if tools is None:
        return 0
    if "salesforce" in tools:
        return 100
    return 0 if OTHER_CRMS.isdisjoint(tools) else 40


def data_stack(tools: frozenset[str] | None) -> int:
    if tools is None:
        return 0
    if SNOWFLAKE_AND_DBT <= tools:
        return 100
    return 0 if WAREHOUSES.isdisjoint(tools) else 60


def engagement(days: int | None, visits: int) -> int:
    if days is not None:
        if 0 <= days <= 30 and visits >= 50:
            return 100
        if 0 <= days <= 90:
            return 50
    if visits >= 20:
        return 30
    return 10 if days is None else 0  # unknown activity: the missing branch


def buying_intent(opportunities: int, intent: int | None) -> int:
    if opportunities >= 1:
        return 100
    if intent is None:
        return 0  # missing
    if intent >= 80:
        return 100
    return 50 if intent >= 50 else 0


def product_usage(plan: str | None, users: int) -> int:
    if plan == "enterprise" or users >= 50:
        return 100
    if plan is None:
        return 0  # missing
    return 60 if plan in PAID else 20


def efficiency(amount: int | None, employees: int | None) -> int:
    if amount is None or not employees:
        return 0  # missing: unknown, or a division by zero
    if employees > 0:
        high, mid = amount >= 250_000 * employees, amount >= 100_000 * employees
    else:
        high, mid = amount <= 250_000 * employees, amount <= 100_000 * employees
    return 100 if high else 50 if mid else 10


# ---- the whole policy --------------------------------------------------------------


def parts(a: Mapping[str, Any], today: dt.date) -> tuple[int, ...]:
    """Each criterion's contribution in hundredths of a point (weight x points)."""
    employees = a["employees"]
    amount = a["annual_revenue"]
    tools = list_keys(a["tech_stack"])
    users = a["active_users"]
    return (
        15 * company_size(employees),
        10 * revenue(amount),
        15 * industry_fit(text_key(a["industry"])),
        5 * region(text_key(a["country"])),
        10 * crm_fit(tools),
        10 * data_stack(tools),
        15
        * engagement(days_since(a["last_activity"], today), a["web_visits_30d"] or 0),
        10 * buying_intent(a["open_opportunities"] or 0, a["intent_score"]),
        5 * product_usage(text_key(a["plan"]), users or 0),
        5 * efficiency(amount, employees),
    )


def tier_of(a: Mapping[str, Any], units: int) -> str | None:
    """The tier by thresholds, then the overrides (None: excluded)."""
    if a["is_customer"]:
        return None
    employees = a["employees"]
    if employees is not None and employees >= 10000:
        if text_key(a["industry"]) in TARGET:
            return "A"
    if units >= 7500:
        return "A"
    if units >= 5500:
        return "B"
    return "C" if units >= 3500 else "D"


def grade(a: Mapping[str, Any], today: dt.date) -> tuple[str | None, int]:
    """Tier (None when excluded) and score in hundredths of a point."""
    units = sum(parts(a, today))
    return tier_of(a, units), units


# ---- the same function over the CSV export -----------------------------------------


def read_int(text: str) -> int | None:
    text = text.strip()
    if not text or text.casefold() in NO_VALUE:
        return None
    return int(text.replace(",", ""))


def read_money(text: str) -> int | None:
    text = text.strip().lstrip("$")
    return int(text.replace(",", "")) if text else None


def read_bool(text: str) -> bool | None:
    text = text.strip()
    return text.casefold() in TRUE_WORDS if text else None


def read_date(text: str) -> dt.date | None:
    text = text.strip()
    return dt.date.fromisoformat(text) if text else None


def read_row(row: list[str]) -> dict[str, Any]:
    """A row of the export (columns as in generate.CSV_COLUMNS) as typed values."""
    return {
        "employees": read_int(row[6]),
        "annual_revenue": read_money(row[7]),
        "industry": row[4],
        "country": row[5],
        "tech_stack": row[8].split(";") if row[8] else None,
        "web_visits_30d": read_int(row[9]),
        "last_activity": read_date(row[10]),
        "open_opportunities": read_int(row[11]),
        "intent_score": read_int(row[12]),
        "plan": row[13],
        "active_users": read_int(row[14]),
        "is_customer": read_bool(row[15]),
    }


def grade_file(input_csv: str, output_csv: str, as_of: str) -> None:
    """Grade the export, writing id, tier, score and the points of each criterion."""
    today = dt.date.fromisoformat(as_of)
    with (
        open(input_csv, newline="", encoding="utf-8") as source,
        open(output_csv, "w", newline="", encoding="utf-8") as target,
    ):
        reader = csv.reader(source)
        writer = csv.writer(target)
        next(reader)
        writer.writerow(("id", "tier", "score", *CRITERIA))
        for row in reader:
            typed = read_row(row)
            shares = parts(typed, today)
            units = sum(shares)
            tier = tier_of(typed, units)
            writer.writerow(
                (row[0], tier or "", units_text(units), *map(units_text, shares))
            )


# ---- the runner's view -------------------------------------------------------------


def rows(ctx: Context) -> RowEngine:
    today = dt.date.fromisoformat(ctx.as_of)
    return RowEngine(
        grade=lambda account: grade(account, today),
        outcome=lambda graded: (graded[0], units_text(graded[1])),
    )


def file(ctx: Context) -> Callable[[str, str], None]:
    return lambda input_csv, output_csv: grade_file(input_csv, output_csv, ctx.as_of)
