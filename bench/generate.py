"""Write N invented but realistic accounts, deterministically, as CSV and JSONL.

The CSV is a CRM export with the mess real exports have: thousands
separators and dollar signs, "n/a" for unknown head counts, industries in odd
case with stray spaces, tools separated by ";" with uneven spacing, yes/no
flags spelled five ways, and empty cells. The JSONL holds the same accounts
as typed JSON, the shape a service receives: numbers, booleans, lists, ISO
dates and null. Text stays as typed in both.

A fixed seed gives the same file every time, and the first N accounts of a
larger file are the N accounts of a smaller one. Accounts are written one at
a time, so a million of them never sit in memory together. A few per cent of
values sit exactly on the policy's thresholds (1,000 employees, 30 days, an
intent score of 80...), where engines most often disagree.

    python bench/generate.py 100000 --out bench/data
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import AS_OF, SEED  # noqa: E402

VERSION = 1  # bump when the accounts change, so cached files are rewritten

CSV_COLUMNS = (
    "Account ID",
    "Account Name",
    "Website",
    "Segment",
    "Industry",
    "Country",
    "Employees",
    "Annual Revenue",
    "Technologies",
    "Web Visits (30d)",
    "Last Activity",
    "Open Opportunities",
    "Intent Score",
    "Plan",
    "Active Users",
    "Is Customer",
)
INDUSTRIES = {
    "Software": 14,
    "Fintech": 6,
    "Healthcare IT": 4,
    "E-commerce": 5,
    "Financial Services": 7,
    "Media": 5,
    "Retail": 8,
    "Logistics": 5,
    "Telecommunications": 3,
    "Government": 4,
    "Education": 5,
    "Manufacturing": 10,
    "Agriculture": 3,
    "Construction": 4,
    "Hospitality": 4,
    "Non-profit": 3,
    "Energy": 4,
}
COUNTRIES = {
    "United States": 35,
    "Canada": 6,
    "México": 3,
    "United Kingdom": 8,
    "Germany": 7,
    "France": 5,
    "Netherlands": 3,
    "Spain": 3,
    "Sweden": 2,
    "Türkiye": 2,
    "Brazil": 5,
    "India": 7,
    "Japan": 4,
    "Australia": 4,
    "Singapore": 2,
    "South Africa": 2,
}
TOOLS = {  # how often an account of average size runs each tool
    "Salesforce": 0.28,
    "HubSpot": 0.22,
    "Microsoft Dynamics": 0.05,
    "Pipedrive": 0.05,
    "Zoho CRM": 0.04,
    "Snowflake": 0.16,
    "BigQuery": 0.09,
    "Redshift": 0.06,
    "Databricks": 0.05,
    "Slack": 0.5,
    "Zendesk": 0.18,
    "Segment": 0.08,
    "Marketo": 0.07,
    "Excel": 0.15,
    "SAP": 0.05,
    "Jira": 0.3,
    "Tableau": 0.09,
}
PLANS = {"free": 50, "starter": 20, "pro": 20, "enterprise": 10}
SEGMENTS = (("SMB", 0.55, 1, 199), ("Mid-Market", 0.30, 200, 1999))
ENTERPRISE = ("Enterprise", 2000, 200000)
NAME_PARTS = (
    "Halden Quill Brook Ember North Vanta Lumen Cobalt Fern Marrow Osprey Pine "
    "Ridge Solace Tidal Umber Wren Aster Birch Cinder Drift Ever Flint Grove"
).split()
NAME_TAILS = (
    "Systems",
    "Labs",
    "Health",
    "Logistics",
    "Capital",
    "Studios",
    "Foods",
    "Works",
    "Analytics",
    "Group",
)
SUFFIXES = ("Inc.", "LLC", "Ltd", "GmbH", "S.A.", "", "", "")
BOUNDARY = {
    "employees": (0, 49, 50, 199, 200, 999, 1000, 10000),
    "annual_revenue": (999999, 1000000, 10000000, 100000000),
    "days": (0, 30, 31, 90, 91),
    "web_visits_30d": (19, 20, 49, 50),
    "intent_score": (49, 50, 79, 80),
    "active_users": (49, 50),
}
TRUE_SPELLINGS = ("yes", "Yes", "Y", "true", "TRUE", "1")
FALSE_SPELLINGS = ("no", "No", "N", "false", "FALSE", "0")


def weighted(rng: random.Random, table: dict[str, int]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def messy(rng: random.Random, text: str) -> str:
    """Text as people type it into a CRM: odd case, stray spaces."""
    roll = rng.random()
    if roll < 0.70:
        return text
    if roll < 0.80:
        return text.lower()
    if roll < 0.85:
        return text.upper()
    if roll < 0.95:
        return f" {text}  "
    return f"  {text.lower()}"


def log_uniform(rng: random.Random, low: int, high: int) -> int:
    return int(math.exp(rng.uniform(math.log(low), math.log(high + 1))))


def pick_boundary(rng: random.Random, name: str, value: int) -> int:
    """Now and then, a value exactly on a threshold of the policy."""
    return rng.choice(BOUNDARY[name]) if rng.random() < 0.03 else value


def employees_of(rng: random.Random) -> tuple[str, int]:
    roll = rng.random()
    for segment, share, low, high in SEGMENTS:
        if roll < share:
            return segment, log_uniform(rng, low, high)
        roll -= share
    segment, low, high = ENTERPRISE
    return segment, log_uniform(rng, low, high)


def revenue_of(rng: random.Random, employees: int) -> int:
    per_head = math.exp(rng.gauss(math.log(150000), 0.7))
    revenue = max(employees, 1) * per_head
    revenue = round(revenue, -3) if revenue > 10000 else round(revenue)
    return pick_boundary(rng, "annual_revenue", int(revenue))


def tools_of(rng: random.Random, employees: int) -> list[str]:
    scale = 0.6 if employees < 50 else 1.0 if employees < 1000 else 1.5
    tools = [tool for tool, p in TOOLS.items() if rng.random() < p * scale]
    if "Snowflake" in tools and rng.random() < 0.5:
        tools.append("dbt")
    rng.shuffle(tools)
    return [messy(rng, tool).strip() if rng.random() < 0.3 else tool for tool in tools]


def last_activity_of(rng: random.Random, today: dt.date) -> dt.date:
    roll = rng.random()
    if roll < 0.30:
        days = rng.randint(0, 30)
    elif roll < 0.55:
        days = rng.randint(31, 90)
    elif roll < 0.97:
        days = rng.randint(91, 400)
    else:
        days = -rng.randint(1, 14)  # a meeting booked ahead
    return today - dt.timedelta(days=pick_boundary(rng, "days", days))


def name_of(rng: random.Random) -> tuple[str, str]:
    first = rng.choice(NAME_PARTS) + rng.choice(NAME_PARTS).lower()
    base = f"{first} {rng.choice(NAME_TAILS)}"
    suffix = rng.choice(SUFFIXES)
    name = f"{base}, {suffix}" if suffix and rng.random() < 0.3 else f"{base} {suffix}"
    if rng.random() < 0.01:
        name = f'{base} "The {rng.choice(NAME_TAILS)} People"'
    return name.strip(), first.lower() + ".example"


def account(rng: random.Random, number: int, today: dt.date) -> dict[str, Any]:
    """One account as typed values; None is unknown."""
    name, website = name_of(rng)
    segment, employees = employees_of(rng)
    employees = pick_boundary(rng, "employees", employees)
    plan = weighted(rng, PLANS) if rng.random() < 0.5 else None
    users = log_uniform(rng, 1, 500) if plan else None
    return {
        "id": f"ACC-{number:07d}",
        "name": name,
        "website": website,
        "segment": segment,
        "employees": None if rng.random() < 0.08 else employees,
        "annual_revenue": None if rng.random() < 0.15 else revenue_of(rng, employees),
        "industry": maybe_text(rng, weighted(rng, INDUSTRIES), 0.05),
        "country": maybe_text(rng, weighted(rng, COUNTRIES), 0.03),
        "tech_stack": tools_of(rng, employees) if rng.random() > 0.08 else None,
        "web_visits_30d": None
        if rng.random() < 0.2
        else pick_boundary(rng, "web_visits_30d", log_uniform(rng, 1, 400) - 1),
        "last_activity": None
        if rng.random() < 0.1
        else last_activity_of(rng, today).isoformat(),
        "open_opportunities": None
        if rng.random() < 0.3
        else (rng.randint(1, 3) if rng.random() < 0.12 else 0),
        "intent_score": None
        if rng.random() < 0.45
        else pick_boundary(rng, "intent_score", rng.randint(0, 100)),
        "plan": messy(rng, plan) if plan else None,
        "active_users": pick_boundary(rng, "active_users", users) if users else None,
        "is_customer": None if rng.random() < 0.1 else rng.random() < 0.07,
    }


def maybe_text(rng: random.Random, text: str, missing: float) -> str | None:
    roll = rng.random()
    if roll < missing * 0.8:
        return None
    if roll < missing:
        return "   "  # blank after trimming: missing too
    return messy(rng, text)


# ---- the CSV spelling of each value ---------------------------------------------


def csv_row(rng: random.Random, a: dict[str, Any]) -> list[str]:
    return [
        a["id"],
        a["name"],
        a["website"],
        a["segment"],
        a["industry"] or "",
        a["country"] or "",
        employees_text(rng, a["employees"]),
        revenue_text(rng, a["annual_revenue"]),
        tools_text(rng, a["tech_stack"]),
        number_text(a["web_visits_30d"]),
        a["last_activity"] or "",
        number_text(a["open_opportunities"]),
        number_text(a["intent_score"]),
        a["plan"] or "",
        number_text(a["active_users"]),
        bool_text(rng, a["is_customer"]),
    ]


def number_text(value: int | None) -> str:
    return "" if value is None else str(value)


def employees_text(rng: random.Random, value: int | None) -> str:
    if value is None:
        return rng.choice(("", "", "n/a", "N/A", "unknown"))
    if value >= 1000 and rng.random() < 0.4:
        return f"{value:,}"
    return str(value)


def revenue_text(rng: random.Random, value: int | None) -> str:
    if value is None:
        return ""
    roll = rng.random()
    if roll < 0.5:
        return str(value)
    return f"${value:,}" if roll < 0.8 else f"{value:,}"


def tools_text(rng: random.Random, tools: list[str] | None) -> str:
    if not tools:
        return ""
    return rng.choice((";", "; ", ";  ")).join(tools)


def bool_text(rng: random.Random, value: bool | None) -> str:
    if value is None:
        return ""
    return rng.choice(TRUE_SPELLINGS if value else FALSE_SPELLINGS)


# ---- files ------------------------------------------------------------------------


def accounts(n: int, seed: int = SEED) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """Each account as typed values and as its CSV row, one at a time."""
    rng = random.Random(seed)
    spelling = random.Random(seed + 1)  # CSV spellings do not shift the accounts
    today = dt.date.fromisoformat(AS_OF)
    for number in range(1, n + 1):
        typed = account(rng, number, today)
        yield typed, csv_row(spelling, typed)


def write(n: int, folder: Path, seed: int = SEED) -> tuple[Path, Path]:
    """Write `accounts-N.csv` and `accounts-N.jsonl` in `folder` (reused if current)."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"accounts-{n}.csv"
    jsonl_path = folder / f"accounts-{n}.jsonl"
    manifest = folder / f"accounts-{n}.json"
    stamp = {"n": n, "seed": seed, "version": VERSION}
    if manifest.exists() and json.loads(manifest.read_text()) == stamp:
        return csv_path, jsonl_path
    with (
        csv_path.open("w", newline="", encoding="utf-8") as csv_file,
        jsonl_path.open("w", encoding="utf-8") as jsonl_file,
    ):
        writer = csv.writer(csv_file)
        writer.writerow(CSV_COLUMNS)
        for typed, row in accounts(n, seed):
            writer.writerow(row)
            jsonl_file.write(json.dumps(typed, ensure_ascii=False) + "\n")
    manifest.write_text(json.dumps(stamp))
    return csv_path, jsonl_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="how many accounts")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    for path in write(args.n, args.out, args.seed):
        print(path)


if __name__ == "__main__":
    main()
