"""bench/policy.grade as a GoRules ZEN decision graph (JDM), graded per account.

The graph is built here as JSON: an expression node reads the facts as the
policy does (text trimmed and lower-cased, blank text missing, defaults for
visits, opportunities, users and the customer flag, days since the last
activity), ten first-hit decision tables give each criterion's points, and
a last expression node sums the score in hundredths of a point and applies
the tiers and overrides. ZEN compares null with a number as an error, so
every row that reads a fact that may be missing tests it first; each
criterion's `missing` branch is a row of its own before the catch-all
`otherwise` row. ZEN has no Unicode normalization: the generated accounts
use precomposed accents only, so lower-casing is enough for them.

Accounts go to `ZenEngine.evaluate` with the graph held by a static loader:
on this build that is about ten times faster per call than
`ZenDecision.evaluate` on a decision made with `create_decision`.

    python bench/engines/zen.py > graph.json   # the graph, to read or load
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import zen

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import AS_OF, Context, units_text  # noqa: E402
from engines import RowEngine  # noqa: E402

TARGET = "['software', 'fintech', 'healthcare it', 'e-commerce']"
ADJACENT = (
    "['financial services', 'media', 'retail', 'logistics', 'telecommunications']"
)
NORTH_AMERICA = "['united states', 'canada', 'méxico']"
EUROPE = (
    "['united kingdom', 'germany', 'france', 'netherlands', 'spain', 'sweden', "
    "'türkiye']"
)
OTHER_CRMS = "['hubspot', 'microsoft dynamics', 'pipedrive', 'zoho crm']"
WAREHOUSES = "['snowflake', 'bigquery', 'redshift', 'databricks']"

# Each criterion: its weight and first-hit rows of (condition, points); the
# empty condition matches every account.
CRITERIA: dict[str, tuple[int, list[tuple[str, int]]]] = {
    "size": (
        15,
        [
            ("employees != null and employees >= 1000", 100),
            ("employees != null and employees >= 200 and employees <= 999", 70),
            ("employees != null and employees >= 50 and employees <= 199", 40),
            ("employees == null", 0),
            ("", 10),
        ],
    ),
    "revenue": (
        10,
        [
            ("revenue != null and revenue >= 100000000", 100),
            ("revenue != null and revenue >= 10000000", 60),
            ("revenue != null and revenue >= 1000000", 30),
            ("revenue == null", 0),
            ("", 5),
        ],
    ),
    "industry": (
        15,
        [
            (f"industry != null and industry in {TARGET}", 100),
            (f"industry != null and industry in {ADJACENT}", 50),
            ("industry == 'government'", -20),
            ("", 0),
        ],
    ),
    "region": (
        5,
        [
            ("country == null", 0),
            (f"country in {NORTH_AMERICA}", 100),
            (f"country in {EUROPE}", 70),
            ("", 20),
        ],
    ),
    "crm": (
        10,
        [
            ("tools == null", 0),
            ("'salesforce' in tools", 100),
            (f"some(tools, # in {OTHER_CRMS})", 40),
            ("", 0),
        ],
    ),
    "data": (
        10,
        [
            ("tools == null", 0),
            ("'snowflake' in tools and 'dbt' in tools", 100),
            (f"some(tools, # in {WAREHOUSES})", 60),
            ("", 0),
        ],
    ),
    "engagement": (
        15,
        [
            ("days != null and days >= 0 and days <= 30 and visits >= 50", 100),
            ("days != null and days >= 0 and days <= 90", 50),
            ("visits >= 20", 30),
            ("days == null", 10),
            ("", 0),
        ],
    ),
    "intent": (
        10,
        [
            ("opportunities >= 1", 100),
            ("intent == null", 0),
            ("intent >= 80", 100),
            ("intent >= 50", 50),
            ("", 0),
        ],
    ),
    "usage": (
        5,
        [
            ("plan == 'enterprise' or users >= 50", 100),
            ("plan == null", 0),
            ("plan in ['starter', 'pro']", 60),
            ("", 20),
        ],
    ),
    "efficiency": (
        5,
        [
            ("revenue == null or employees == null or employees == 0", 0),
            ("revenue / employees >= 250000", 100),
            ("revenue / employees >= 100000", 50),
            ("", 10),
        ],
    ),
}


def _text(field: str) -> str:
    return (
        f"{field} == null ? null : (trim({field}) == '' ? null : lower(trim({field})))"
    )


def fact_expressions(as_of: str) -> dict[str, str]:
    """How the graph reads each fact from the typed account."""
    tools = "filter(tech_stack, trim(#) != '')"
    return {
        "employees": "employees",
        "revenue": "annual_revenue",
        "industry": _text("industry"),
        "country": _text("country"),
        "tools": f"tech_stack == null ? null : (len({tools}) == 0 ? null : "
        f"map({tools}, lower(trim(#))))",
        "visits": "web_visits_30d ?? 0",
        "days": "last_activity == null ? null : "
        f"(date('{as_of}') - date(last_activity)) / 86400",
        "opportunities": "open_opportunities ?? 0",
        "intent": "intent_score",
        "plan": _text("plan"),
        "users": "active_users ?? 0",
        "customer": "is_customer ?? false",
    }


def grade_expressions() -> dict[str, str]:
    units = " + ".join(f"p_{name} * {w}" for name, (w, _) in CRITERIA.items())
    strategic = f"employees != null and employees >= 10000 and industry in {TARGET}"
    tiers = (
        "$.units >= 7500 ? 'A' : ($.units >= 5500 ? 'B' : "
        "($.units >= 3500 ? 'C' : 'D'))"
    )
    return {
        "units": units,
        "tier": f"customer ? null : (({strategic}) ? 'A' : ({tiers}))",
    }


def _node(ident: str, kind: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": ident,
        "type": kind,
        "name": ident,
        "position": {"x": 0, "y": 0},
        "content": content,
    }


def _expressions(values: dict[str, str], pass_through: bool) -> dict[str, Any]:
    return {
        "expressions": [
            {"id": key, "key": key, "value": value} for key, value in values.items()
        ],
        "passThrough": pass_through,
        "inputField": None,
        "outputPath": None,
        "executionMode": "single",
    }


def _table(name: str, rows: list[tuple[str, int]]) -> dict[str, Any]:
    return {
        "hitPolicy": "first",
        "passThrough": True,
        "inputField": None,
        "outputPath": None,
        "executionMode": "single",
        "inputs": [{"id": "when", "name": "condition", "field": ""}],
        "outputs": [{"id": "points", "name": "points", "field": f"p_{name}"}],
        "rules": [
            {"_id": f"{name}-{i}", "when": when, "points": str(points)}
            for i, (when, points) in enumerate(rows)
        ],
    }


def graph(as_of: str = AS_OF) -> dict[str, Any]:
    """The whole decision graph, input to output, one node after another."""
    nodes = [
        _node("input", "inputNode", {}),
        _node("facts", "expressionNode", _expressions(fact_expressions(as_of), False)),
        *(
            _node(name, "decisionTableNode", _table(name, rows))
            for name, (_, rows) in CRITERIA.items()
        ),
        _node("grade", "expressionNode", _expressions(grade_expressions(), False)),
        _node("output", "outputNode", {}),
    ]
    edges = [
        {"id": f"e{i}", "sourceId": a["id"], "targetId": b["id"], "type": "edge"}
        for i, (a, b) in enumerate(zip(nodes, nodes[1:]))
    ]
    return {
        "contentType": "application/vnd.gorules.decision",
        "nodes": nodes,
        "edges": edges,
    }


def outcome(response: dict[str, Any]) -> tuple[str | None, str]:
    result = response["result"]
    units = result["units"]
    if units != int(units):
        raise ValueError(f"ZEN gave a score of {units} hundredths")
    return result.get("tier"), units_text(int(units))


def rows(ctx: Context) -> RowEngine:
    dt.date.fromisoformat(ctx.as_of)  # the graph takes the as-of as a date
    options: Any = {
        "loader": {"type": "static", "content": {"policy": graph(ctx.as_of)}}
    }
    engine = zen.ZenEngine(options)
    return RowEngine(grade=lambda a: engine.evaluate("policy", a), outcome=outcome)


if __name__ == "__main__":
    json.dump(graph(), sys.stdout, indent=2, ensure_ascii=False)
