"""bench/policy.grade as a durable_rules ruleset, graded per account.

durable_rules is a forward-chaining (Rete) engine: every rule whose condition
holds for an asserted fact fires, in no fixed order, so "the first branch
that holds wins" is written out as mutually exclusive conditions, and each
criterion's `missing` branch as its own condition over the facts it reads.
Every `|` must join conditions that cannot hold together: durable_rules
fires a rule once for each alternative that holds. Conditions are positive
only: on this build a rule testing `-m.fact`
(absence) or `m.id` never returns, and `m.x != None & m.x.anyItem(...)` never
matches, so unknown values are null fields tested with `== None`, and list
tests rely on a null list matching no `anyItem`/`allItems`.

Branches worth 0 points have no rule; each rule that fires adds its weight x
points (in hundredths) to the account's score. Reading the facts (trimming
and lower-casing text, defaults, days since the last activity) is Python
before the assert, as a durable_rules user would write it; so are the tier
thresholds once the rules have fired. Both are part of the timed grade.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from durable.engine import MessageNotHandledException
from durable.lang import assert_fact, item, m, retract_fact, ruleset, when_all

from common import Context, units_text
from engines import RowEngine
from engines.handwritten import list_keys, text_key

RULESET = "tierwise_bench"
TARGET = ("software", "fintech", "healthcare it", "e-commerce")
ADJACENT = ("financial services", "media", "retail", "logistics", "telecommunications")
NORTH_AMERICA = ("united states", "canada", "méxico")
EUROPE = (
    "united kingdom",
    "germany",
    "france",
    "netherlands",
    "spain",
    "sweden",
    "türkiye",
)
OTHER_CRMS = ("hubspot", "microsoft dynamics", "pipedrive", "zoho crm")
WAREHOUSES = ("snowflake", "bigquery", "redshift", "databricks")

_state: dict[str, Any] = {}  # the account being graded; rules fire inside assert


def one_of(field: Any, values: tuple[str, ...]) -> Any:
    condition = field == values[0]
    for value in values[1:]:
        condition = condition | (field == value)
    return condition


def none_of(field: Any, values: tuple[str, ...]) -> Any:
    condition = field != values[0]
    for value in values[1:]:
        condition = condition & (field != value)
    return condition


def item_in(values: tuple[str, ...]) -> Any:
    return one_of(item, values)


def rules() -> list[tuple[Any, int]]:
    """(condition, hundredths of a point) for every branch worth points."""
    return [*_firmographic(), *_technographic(), *_behavioural()]


def _firmographic() -> list[tuple[Any, int]]:
    emp, rev, known = m.employees, m.revenue, m.employees != None  # noqa: E711
    efficiency = known & (m.revenue != None) & (emp > 0)  # noqa: E711
    return [
        (known & (emp >= 1000), 1500),
        (known & (emp >= 200) & (emp <= 999), 1050),
        (known & (emp >= 50) & (emp <= 199), 600),
        (known & (emp < 50), 150),
        ((rev != None) & (rev >= 100000000), 1000),  # noqa: E711
        ((rev != None) & (rev >= 10000000) & (rev < 100000000), 600),  # noqa: E711
        ((rev != None) & (rev >= 1000000) & (rev < 10000000), 300),  # noqa: E711
        ((rev != None) & (rev < 1000000), 50),  # noqa: E711
        (one_of(m.industry, TARGET), 1500),
        (one_of(m.industry, ADJACENT), 750),
        (m.industry == "government", -300),
        (one_of(m.country, NORTH_AMERICA), 500),
        (one_of(m.country, EUROPE), 350),
        ((m.country != None) & none_of(m.country, NORTH_AMERICA + EUROPE), 100),  # noqa: E711
        (efficiency & (rev >= emp * 250000), 500),
        (efficiency & (rev < emp * 250000) & (rev >= emp * 100000), 250),
        (efficiency & (rev < emp * 100000), 50),
    ]


def _technographic() -> list[tuple[Any, int]]:
    tools = m.tools
    no_salesforce = tools.allItems(item != "salesforce")
    no_snowflake = tools.allItems(item != "snowflake")
    not_both = no_snowflake | (
        tools.anyItem(item == "snowflake") & tools.allItems(item != "dbt")
    )
    return [
        (tools.anyItem(item == "salesforce"), 1000),
        (no_salesforce & tools.anyItem(item_in(OTHER_CRMS)), 400),
        (tools.anyItem(item == "snowflake") & tools.anyItem(item == "dbt"), 1000),
        (not_both & tools.anyItem(item_in(WAREHOUSES)), 600),
    ]


def _behavioural() -> list[tuple[Any, int]]:
    days, visits, known = m.days, m.visits, m.days != None  # noqa: E711
    recent = known & (days >= 0) & (days <= 30)
    quarter = (recent & (visits < 50)) | (known & (days > 30) & (days <= 90))
    stale = (m.days == None) | (days < 0) | (days > 90)  # noqa: E711
    no_opportunity = m.opportunities < 1
    intent = no_opportunity & (m.intent != None)  # noqa: E711
    paid = (m.plan == "starter") | (m.plan == "pro")
    not_enterprise = (m.plan == None) | one_of(m.plan, ("free", "starter", "pro"))  # noqa: E711
    return [
        (recent & (visits >= 50), 1500),
        (quarter, 750),
        (stale & (visits >= 20), 450),
        ((m.days == None) & (visits < 20), 150),  # noqa: E711 - the missing branch
        (m.opportunities >= 1, 1000),
        (intent & (m.intent >= 80), 1000),
        (intent & (m.intent >= 50) & (m.intent < 80), 500),
        ((m.plan == "enterprise") | (not_enterprise & (m.users >= 50)), 500),
        (paid & (m.users < 50), 300),
        ((m.plan == "free") & (m.users < 50), 100),
    ]


def overrides() -> list[tuple[Any, str]]:
    big = (m.employees != None) & (m.employees >= 10000)  # noqa: E711
    return [
        (m.customer == True, "excluded"),  # noqa: E712
        (big & one_of(m.industry, TARGET), "strategic"),
    ]


def _add(units: int) -> Any:
    def action(_context: Any) -> None:
        _state["units"] += units

    return action


def _flag(name: str) -> Any:
    def action(_context: Any) -> None:
        _state[name] = True

    return action


def define() -> None:
    """Register the ruleset with durable_rules' host (once per process)."""
    with ruleset(RULESET):
        for condition, units in rules():
            when_all(condition)(_add(units))
        for condition, flag in overrides():
            when_all(condition)(_flag(flag))


def fact(account: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """The facts as the rules read them: keys trimmed and lower-cased, defaults."""
    last = account["last_activity"]
    return {
        "id": account["id"],
        "employees": account["employees"],
        "revenue": account["annual_revenue"],
        "industry": text_key(account["industry"]),
        "country": text_key(account["country"]),
        "tools": sorted(list_keys(account["tech_stack"]) or ()) or None,
        "visits": account["web_visits_30d"] or 0,
        "days": None if last is None else (today - dt.date.fromisoformat(last)).days,
        "opportunities": account["open_opportunities"] or 0,
        "intent": account["intent_score"],
        "plan": text_key(account["plan"]),
        "users": account["active_users"] or 0,
        "customer": bool(account["is_customer"]),
    }


def grade(account: dict[str, Any], today: dt.date) -> tuple[str | None, int]:
    facts = fact(account, today)
    _state.update(units=0, excluded=False, strategic=False)
    try:
        assert_fact(RULESET, facts)
        retract_fact(RULESET, facts)
    except MessageNotHandledException:
        pass  # no rule fired: every criterion scored 0
    units = _state["units"]
    if _state["excluded"]:
        return None, units
    if _state["strategic"] or units >= 7500:
        return "A", units
    return ("B" if units >= 5500 else "C" if units >= 3500 else "D"), units


def rows(ctx: Context) -> RowEngine:
    define()
    today = dt.date.fromisoformat(ctx.as_of)
    return RowEngine(
        grade=lambda account: grade(account, today),
        outcome=lambda graded: (graded[0], units_text(graded[1])),
    )
